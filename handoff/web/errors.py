"""One error shape for every HTTP route: ``{"error": message}`` with a status (and headers)."""

from __future__ import annotations

from sanic import Request
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse
from sanic.response import json as json_response

# Paths whose failures are answered as JSON; the pages keep Sanic's own error pages.
API_PREFIX = "/api/"


class PublicError(Exception):
    """A failure whose message is safe to show to whoever caused it, answered with
    ``status`` (the service's errors derive from it too)."""

    status = 400
    headers: dict[str, str] = {}


class ApiError(PublicError):
    """An error answered as ``{"error": message}`` with ``status`` (and headers, such as
    ``Retry-After``)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error(status: int, message: str, headers: dict[str, str] | None = None) -> HTTPResponse:
    """The one JSON error shape: ``{"error": "..."}``."""
    return json_response({"error": message}, status=status, headers=headers)


async def handle_error(request: Request, exception: Exception) -> HTTPResponse:
    """The app's one catch-all: known failures answer their status; anything else on an
    API path is logged and answers a 500 JSON error; pages get Sanic's default."""
    if isinstance(exception, PublicError):
        return error(exception.status, str(exception), exception.headers or None)
    if request.path.startswith(API_PREFIX):
        if isinstance(exception, SanicException):
            status = getattr(exception, "status_code", 500) or 500
            return error(status, str(exception) or "request failed")
        request.app.ctx.handoff_logger.exception("API failure", exc_info=exception)
        return error(500, "internal error, please retry")
    return request.app.error_handler.default(request, exception)
