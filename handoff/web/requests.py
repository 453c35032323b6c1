"""Reading requests: JSON bodies, message-id query arguments, bearer tokens, addresses."""

from __future__ import annotations

import json
from typing import Any, Iterable

from sanic import Request

from ..text import MAX_ID, find_unstorable, parse_id
from .errors import ApiError


def read_json(request: Request, required: Iterable[str] = ()) -> dict[str, Any]:
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


def optional_text(body: dict[str, Any], name: str) -> str | None:
    """``body[name]`` when it is a string, None when absent or null, else a 422."""
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(422, f"{name} must be a string")
    return value


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


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def client_address(request: Request) -> str:
    """The client's address. Behind a reverse proxy Sanic takes it from the proxy's
    ``X-Forwarded-For`` only when ``PROXIES_COUNT`` is set (``BOT_PROXIES_COUNT``)."""
    return request.remote_addr or request.ip or "unknown"
