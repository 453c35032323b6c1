"""Serve a Sanic app inside this process on 127.0.0.1: for benchmarks and tests.

Sanic's runner (``app.run``, what ``python -m bot`` uses) owns its event loop; code that
already runs a loop serves the app with :class:`InProcessServer` instead, which takes the
runner's steps in the runner's order, shut-down included: between the stop listeners the
runner lets the connections drain, so the websocket handlers Sanic cancels when the
server stops finish their clean-up (giving back a database connection) before the
after-stop listeners close the database.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sanic import Sanic

from handoff.protocol import GuardedProtocol


class InProcessServer:
    """``app`` served on ``127.0.0.1:port`` with the web app's protocol, no access log."""

    def __init__(self, app: Sanic, port: int) -> None:
        self.app = app
        self.port = port
        self.server: Any = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Run the start-up listeners and accept connections."""
        self.server = await self.app.create_server(
            host="127.0.0.1",
            port=self.port,
            return_asyncio_server=True,
            access_log=False,
            protocol=GuardedProtocol,
        )
        await self.server.startup()
        await self.server.before_start()
        await self.server.after_start()
        await self.server.start_serving()

    async def stop(self) -> None:
        """Stop as Sanic's runner does: before-stop listeners (Sanic cancels the websocket
        handlers), no new connections, the open ones drained, then after-stop listeners."""
        server = self.server
        await server.before_stop()
        server.close()
        await server.wait_closed()
        handlers = list(self.app.websocket_tasks)
        if handlers:
            await asyncio.wait(handlers, timeout=self.app.config.GRACEFUL_SHUTDOWN_TIMEOUT)
        for connection in list(server.connections):
            if getattr(connection, "websocket", None) is not None:
                connection.websocket.fail_connection(code=1001)  # "going away"
            elif not connection.close_if_idle():
                connection.abort()  # a request still running: the runner cuts it too
        await server.after_stop()
