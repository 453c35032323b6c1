"""HTTP helpers of the customer API: JSON errors, the token guard, rate limits."""

from __future__ import annotations

from functools import wraps
from typing import Any, Awaitable, Callable, Dict, Optional

from sanic import Request
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from handoff.http import ApiError as DeskApiError
from handoff.http import handle_error as desk_handle_error
from handoff.service import ServiceError

from . import tokens
from handoff.ratelimit import RateLimiter

Handler = Callable[..., Awaitable[HTTPResponse]]


class ApiError(Exception):
    """An error answered as ``{"error": message}`` with ``status`` (and headers)."""

    def __init__(self, status: int, message: str, headers: Optional[Dict[str, str]] = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error(status: int, message: str, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    """The one JSON error shape."""
    return json_response({"error": message}, status=status, headers=headers)


def json_api(handler: Handler) -> Handler:
    """Route decorator: every known failure becomes a clear JSON error."""

    @wraps(handler)
    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        try:
            return await handler(request, *args, **kwargs)
        except ApiError as problem:
            return error(problem.status, problem.message, problem.headers)
        except tokens.TokenError as problem:
            return error(problem.status, str(problem))
        except DeskApiError as problem:
            return error(problem.status, problem.message, problem.headers)
        except ServiceError as problem:
            return error(problem.status, str(problem))

    return wrapped


def bearer_token(request: Request) -> Optional[str]:
    """The token of ``Authorization: Bearer <token>``, if any."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authorise(request: Request, conversation_id: str) -> None:
    """401 unless the request carries a valid token for ``conversation_id`` (403 if for
    another conversation)."""
    tokens.check(bearer_token(request), conversation_id, request.app.ctx.bot_secret)


def limit(limiter: RateLimiter, key: str, what: str) -> None:
    """429 with ``Retry-After`` when ``key`` is over ``limiter``'s rate."""
    retry_after = limiter.hit(key)
    if retry_after is not None:
        raise ApiError(
            429,
            f"too many {what}: please wait {retry_after} s and try again",
            {"Retry-After": str(retry_after)},
        )


async def handle_error(request: Request, exception: Exception) -> HTTPResponse:
    """The app's catch-all: customer API paths answer ``{"error": ...}``; the rest is the
    desk's handler (which answers JSON on its own paths)."""
    if request.path.startswith("/api/conversations"):
        if isinstance(exception, SanicException):
            status = getattr(exception, "status_code", 500) or 500
            return error(status, str(exception) or "request failed")
        request.app.ctx.handoff_logger.exception("customer API failure", exc_info=exception)
        return error(500, "internal error, please retry")
    return await desk_handle_error(request, exception)
