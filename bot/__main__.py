"""``python -m bot``: the web app (shop demo, widget, customer API, agent desk)."""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace

from handoff.settings import Settings as HandoffSettings
from handoff.web.serving import serve, serving_problem

from .app import create_app
from .settings import BotSettings


def main(argv: list[str] | None = None) -> None:
    """Read the settings once, build the app and serve it on one worker."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--port", type=int, help="port (default PORT or 8000)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = BotSettings.from_env()
    if args.port:
        settings = replace(settings, port=args.port)
    handoff_settings = HandoffSettings.from_env()
    problem = serving_problem(handoff_settings, settings.host)
    if problem:
        parser.exit(2, f"python -m bot: {problem}\n")
    app = create_app(settings, handoff_settings)
    base = f"http://{settings.host}:{settings.port}"
    print(f"Shop with the chat widget: {base}/   Agent desk: {base}/desk", flush=True)
    if handoff_settings.demo:
        print("DEMO MODE: agent login demo / password demo. Never expose this server.", flush=True)
    serve(app, settings.host, settings.port, banner=False)


if __name__ == "__main__":
    main()
