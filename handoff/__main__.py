"""``python -m handoff [--demo]``: run the agent desk alone on 127.0.0.1."""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace

from .app import create_app
from .settings import Settings
from .web.serving import serve, serving_problem


def main() -> None:
    """Parse flags, build the app and serve it."""
    parser = argparse.ArgumentParser(prog="python -m handoff", description=__doc__)
    parser.add_argument(
        "--demo", action="store_true", help="create a demo/demo agent (never on a reachable server)"
    )
    parser.add_argument("--port", type=int, help="port (default HANDOFF_PORT or 8000)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    settings = Settings.from_env()
    if args.demo:
        settings = replace(settings, demo=True)
    if args.port:
        settings = replace(settings, port=args.port)
    problem = serving_problem(settings, settings.host)
    if problem:
        parser.exit(2, f"python -m handoff: {problem}\n")
    app = create_app(settings)
    print(f"Agent desk: http://{settings.host}:{settings.port}/desk")
    serve(app, settings.host, settings.port)


if __name__ == "__main__":
    main()
