"""`python -m actions [--host H] [--port P]`: the action server (this package) on one interface.

`rasa run actions` always listens on every interface; the assistant's processes stay on
127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import logging

from rasa_sdk.endpoint import create_app


def main() -> None:
    """Parse the arguments and serve until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app("actions", cors_origins=None)
    app.run(host=args.host, port=args.port, access_log=False, motd=False)


if __name__ == "__main__":
    main()
