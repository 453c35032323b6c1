"""HTTP helpers of the agent API: JSON errors, body parsing, the agent guard."""

from __future__ import annotations

import json
from functools import wraps
from typing import Any, Awaitable, Callable, Dict, Iterable, Optional

from sanic import Request
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from .auth import TokenError, read_token
from .service import HandoffService, NotFound, ServiceError

API_PREFIX = "/api/agent"
Handler = Callable[..., Awaitable[HTTPResponse]]


class ApiError(Exception):
    """An error the agent API answers with ``{"error": message}`` and ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error(status: int, message: str) -> HTTPResponse:
    """The one JSON error shape: ``{"error": "..."}``."""
    return json_response({"error": message}, status=status)


def read_json(request: Request, required: Iterable[str] = ()) -> Dict[str, Any]:
    """Parse the body as a JSON object with ``required`` keys, or raise a 422."""
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(422, "the request body must be valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(422, "the request body must be a JSON object")
    missing = [key for key in required if key not in body]
    if missing:
        raise ApiError(422, f"missing field(s): {', '.join(missing)}")
    return body


def int_arg(request: Request, name: str, default: int) -> int:
    """A non-negative integer query argument, or a 422."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, f"{name} must be a non-negative integer") from None
    if value < 0:
        raise ApiError(422, f"{name} must be a non-negative integer")
    return value


def service_of(request: Request) -> HandoffService:
    """The service attached to the app at start-up."""
    return request.app.ctx.handoff


def bearer_token(request: Request) -> Optional[str]:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def agent_from_token(request: Request, token: Optional[str]) -> Any:
    """Resolve a token to an enabled agent, or raise a 401 :class:`ApiError`."""
    if not token:
        raise ApiError(401, "log in first: this needs an agent session token")
    try:
        agent_id = read_token(token, request.app.ctx.handoff_settings.secret_key)
        agent = await service_of(request).get_agent(agent_id)
    except TokenError as problem:
        raise ApiError(401, str(problem)) from None
    except NotFound:
        raise ApiError(401, "invalid session token") from None
    if agent.disabled:
        raise ApiError(401, "this agent account is disabled")
    return agent


def agent_required(handler: Handler) -> Handler:
    """Route decorator: 401 unless a valid session token names an enabled agent."""

    @wraps(handler)
    async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        request.ctx.agent = await agent_from_token(request, bearer_token(request))
        return await handler(request, *args, **kwargs)

    return guarded


async def handle_error(request: Request, exception: Exception) -> HTTPResponse:
    """Answer service, API and Sanic errors on agent routes with JSON."""
    if isinstance(exception, ApiError):
        return error(exception.status, exception.message)
    if isinstance(exception, ServiceError):
        return error(exception.status, str(exception))
    if isinstance(exception, SanicException) and request.path.startswith(API_PREFIX):
        status = getattr(exception, "status_code", 500) or 500
        return error(status, str(exception) or "request failed")
    if request.path.startswith(API_PREFIX):
        request.app.ctx.handoff_logger.exception("agent API failure", exc_info=exception)
        return error(500, "internal error, please retry")
    return request.app.error_handler.default(request, exception)
