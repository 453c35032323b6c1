"""The customer API's guards: the conversation token and the rate limits."""

from __future__ import annotations

from sanic import Request

from handoff.ratelimit import Limiter
from handoff.web.errors import ApiError
from handoff.web.requests import bearer_token

from . import tokens


def authorise(request: Request, conversation_id: str) -> None:
    """401 unless the request carries a valid token for ``conversation_id`` (403 if for
    another conversation)."""
    tokens.check(bearer_token(request), conversation_id, request.app.ctx.bot_secret)


async def limit(limiter: Limiter, key: str, what: str) -> None:
    """429 with ``Retry-After`` when ``key`` is over ``limiter``'s rate."""
    retry_after = await limiter.hit(key)
    if retry_after is not None:
        raise ApiError(
            429,
            f"too many {what}: please wait {retry_after} s and try again",
            {"Retry-After": str(retry_after)},
        )
