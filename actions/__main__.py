"""`python -m actions [--host H] [--port P]`: the action server (this package) on one interface.

`rasa run actions` always listens on every interface; the assistant's processes stay on
127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import logging
import threading

from rasa_sdk.endpoint import create_app


def _warm_up() -> None:
    from actions.frustration import get_detector

    get_detector().score("warm-up")


def main() -> None:
    """Parse the arguments and serve until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app("actions", cors_origins=None)
    # Build the frustration detector (spaCy, VADER, its learned reader: a few seconds) in
    # the background now, so the first customer does not wait for it.
    threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()
    app.run(host=args.host, port=args.port, access_log=False, motd=False)


if __name__ == "__main__":
    main()
