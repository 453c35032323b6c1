"""The one set of security headers (and CSP) for the shop page, widget, desk and APIs."""

from __future__ import annotations

from typing import Any, Callable, Coroutine

from sanic import Request
from sanic.response import BaseHTTPResponse

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# API answers hold conversations and tokens: no cache may keep them.
NO_STORE_PREFIX = "/api/"

Middleware = Callable[[Request, BaseHTTPResponse], Coroutine[Any, Any, None]]


def security_headers(prefixes: tuple[str, ...] | None = None) -> Middleware:
    """A response middleware adding the headers on ``prefixes`` (every path when None)."""

    async def add_headers(request: Request, response: BaseHTTPResponse) -> None:
        if prefixes is not None and not request.path.startswith(prefixes):
            return
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        if request.path.startswith(NO_STORE_PREFIX):
            response.headers.setdefault("Cache-Control", "no-store")

    return add_headers
