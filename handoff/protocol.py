"""The HTTP protocol the web app serves with: slow clients and connection floods.

Sanic 21.12 measures ``REQUEST_TIMEOUT`` from the last byte received, so a client that
sends one header line every few seconds, or one body byte every two, holds its
connection (and memory) for ever. :class:`GuardedProtocol` gives every request a
deadline for its whole header and body, counted from its first byte
(``app.config.REQUEST_TIMEOUT``), and caps the connections one address may hold open
(``app.config.CONNECTIONS_PER_ADDRESS``; 0 = no cap). Serve with
``app.run(protocol=GuardedProtocol)`` / ``app.create_server(protocol=GuardedProtocol)``.
"""

from __future__ import annotations

from time import monotonic
from typing import Any

from sanic.exceptions import RequestTimeout
from sanic.http import Http, Stage
from sanic.server.protocols.websocket_protocol import WebSocketProtocol

TOO_MANY_CONNECTIONS = (
    b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
    b"Retry-After: 5\r\nConnection: close\r\nContent-Length: 65\r\n\r\n"
    b'{"error": "too many connections from your address, retry later"}'
)


class _TimedHttp(Http):
    """Notes when each request's header starts to arrive (pipelined ones included)."""

    async def http1_request_header(self) -> None:
        self.protocol.request_started = monotonic()
        await super().http1_request_header()


class GuardedProtocol(WebSocketProtocol):
    """Sanic's protocol plus a whole-request deadline and a per-address connection cap."""

    __slots__ = ("request_started", "_counted_address")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_started: float | None = None
        self._counted_address: str | None = None

    def _setup_connection(self) -> None:
        super()._setup_connection()
        self._http = _TimedHttp(self)

    def check_timeouts(self) -> None:
        """Sanic's checks, plus: header and body must be in within the deadline."""
        http = self._http
        if self._task and http is not None and self.request_started is not None:
            receiving = http.stage is Stage.REQUEST or (
                http.stage is Stage.HANDLER and http.request_body and not http.upgrade_websocket
            )
            if receiving and monotonic() - self.request_started > self.request_timeout:
                http.exception = RequestTimeout(
                    "the request took too long to arrive: send it at once"
                )
                http.keep_alive = False
                # Else Sanic would wait, after answering, for the rest of the body.
                http.request_body = None
                self._task.cancel()
                return
        super().check_timeouts()

    def connection_made(self, transport: Any) -> None:
        cap = int(getattr(self.app.config, "CONNECTIONS_PER_ADDRESS", 0) or 0)
        peer = transport.get_extra_info("peername")
        address = peer[0] if isinstance(peer, tuple) and peer else None
        if cap and address is not None:
            counts = _counts(self.app)
            if counts.get(address, 0) >= cap:
                transport.write(TOO_MANY_CONNECTIONS)
                transport.close()
                return
            counts[address] = counts.get(address, 0) + 1
            self._counted_address = address
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.transport is not None:  # None when refused in connection_made
            super().data_received(data)

    def connection_lost(self, exc: BaseException | None) -> None:
        address = self._counted_address
        if address is not None:
            self._counted_address = None
            counts = _counts(self.app)
            left = counts.get(address, 1) - 1
            if left > 0:
                counts[address] = left
            else:
                counts.pop(address, None)
        if self.transport is not None:  # None when refused in connection_made
            super().connection_lost(exc)


def _counts(app: Any) -> dict[str, int]:
    counts = getattr(app.ctx, "connections_per_address", None)
    if counts is None:
        counts = app.ctx.connections_per_address = {}
    return counts
