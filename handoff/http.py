"""HTTP helpers of the agent API: JSON errors, body parsing, the agent guard."""

from __future__ import annotations

import json
from functools import wraps
from typing import Any, Awaitable, Callable, Dict, Iterable, Optional

from sanic import Request
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from .auth import TokenError, read_session_token
from .service import AuthFailed, HandoffService, NotFound, ServiceError
from .text import MAX_ID, find_unstorable, parse_id

API_PREFIX = "/api/agent"
Handler = Callable[..., Awaitable[HTTPResponse]]


class ApiError(Exception):
    """An error the agent API answers with ``{"error": message}``, ``status`` (and
    headers, such as ``Retry-After``)."""

    def __init__(self, status: int, message: str,
                 headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error(status: int, message: str, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    """The one JSON error shape: ``{"error": "..."}``."""
    return json_response({"error": message}, status=status, headers=headers)


def client_address(request: Request) -> str:
    """The client's address. Behind a reverse proxy Sanic takes it from the proxy's
    ``X-Forwarded-For`` only when ``PROXIES_COUNT`` is set (``BOT_PROXIES_COUNT``)."""
    return request.remote_addr or request.ip or "unknown"


def read_json(request: Request, required: Iterable[str] = ()) -> Dict[str, Any]:
    """Parse the body as a JSON object with ``required`` keys, or raise a 422."""
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(422, "the request body must be valid JSON") from None
    except RecursionError:
        raise ApiError(422, "the request body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(422, "the request body must be a JSON object")
    reason = find_unstorable(body)
    if reason is not None:
        # "\ud800" and "\u0000" are valid JSON, but no text we can store or show.
        raise ApiError(422, f"the request body holds an invalid character ({reason})")
    missing = [key for key in required if key not in body]
    if missing:
        raise ApiError(422, f"missing field(s): {', '.join(missing)}")
    return body


def int_arg(request: Request, name: str, default: int) -> int:
    """A query argument that is a whole number from 0 to 2**63-1 (a message id), or a
    422 (``²``, ``-1`` and 40 digits included)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = parse_id(raw)
    if value is None:
        raise ApiError(422, f"{name} must be a whole number from 0 to {MAX_ID}")
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
    """Resolve a token to an enabled agent with a live session, or raise a 401
    :class:`ApiError`. Puts the session id on ``request.ctx.agent_session``."""
    if not token:
        raise ApiError(401, "log in first: this needs an agent session token")
    try:
        agent_id, session_id = read_session_token(
            token, request.app.ctx.handoff_settings.secret_key)
        if session_id is None:
            raise TokenError("invalid session token")
        await service_of(request).check_session(session_id, agent_id)
        agent = await service_of(request).get_agent(agent_id)
    except (TokenError, AuthFailed) as problem:
        raise ApiError(401, str(problem)) from None
    except NotFound:
        raise ApiError(401, "invalid session token") from None
    request.ctx.agent_session = session_id
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
        return error(exception.status, exception.message, exception.headers)
    if isinstance(exception, ServiceError):
        return error(exception.status, str(exception))
    if isinstance(exception, SanicException) and request.path.startswith(API_PREFIX):
        status = getattr(exception, "status_code", 500) or 500
        return error(status, str(exception) or "request failed")
    if request.path.startswith(API_PREFIX):
        request.app.ctx.handoff_logger.exception("agent API failure", exc_info=exception)
        return error(500, "internal error, please retry")
    return request.app.error_handler.default(request, exception)
