"""Serving the web app: one way for ``python -m bot`` and ``python -m handoff``."""

from __future__ import annotations

from sanic import Sanic

from ..protocol import GuardedProtocol


def serve(app: Sanic, host: str, port: int, *, banner: bool = True) -> None:
    """Run ``app`` until stopped: one worker (the in-process event bus and rate limits
    live in this process), no access log (URLs stay out of logs), and the guarded
    protocol (request deadlines, connections per address)."""
    app.run(
        host=host,
        port=port,
        access_log=False,
        workers=1,
        motd=banner,
        protocol=GuardedProtocol,
    )
