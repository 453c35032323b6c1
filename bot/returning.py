"""Identified customers on the customer side: linking a new chat to the customer the shop
signed for, and finding their recent chat from another device.

The signature check is :mod:`bot.identity`; the customer rows are the desk's
(:class:`handoff.service.CustomerService`).
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from handoff.web.errors import ApiError
from handoff.web.requests import client_address, read_json

from . import identity, tokens
from .http import limit

# An open chat active this recently is offered on another device.
RECENT_SECONDS = 24 * 3600

bp = Blueprint("customer_returning", url_prefix="/api/conversations")


def check_identity(request: Request, raw: Any) -> identity.Verdict:
    """The verdict on a ``customer`` object of a request body (see :func:`identity.verify`)."""
    settings = request.app.ctx.bot_settings
    now = request.app.ctx.handoff.now().timestamp()
    return identity.verify(raw, settings.identity_secret, now, settings.identity_max_age_seconds)


async def link_identity(request: Request, conversation_id: str, raw: Any) -> dict[str, Any]:
    """Link a new chat to the signed customer, if the signature holds; what the widget is
    told (``identified``, and why not). A bad identity never stops the chat."""
    verdict = check_identity(request, raw)
    if verdict.identity is None:
        return {"identified": False, "problem": None if raw is None else verdict.problem}
    who = verdict.identity
    await request.app.ctx.handoff.identify(conversation_id, who.external_id, who.name, who.email)
    return {"identified": True, "problem": None}


@bp.post("/recent")
async def recent(request: Request) -> HTTPResponse:
    """An identified customer's open chat of the last day, with a token to continue it on
    this device; 404 when there is none, 403 when the identity does not hold."""
    await limit(request.app.ctx.limits["new"], client_address(request), "new chats")
    verdict = check_identity(request, read_json(request, ("customer",))["customer"])
    if verdict.identity is None:
        raise ApiError(403, f"no verified customer: {verdict.problem}")
    service = request.app.ctx.handoff
    found = await service.recent_conversation(verdict.identity.external_id, RECENT_SECONDS)
    if found is None:
        raise ApiError(404, "no recent conversation of this customer")
    settings = request.app.ctx.bot_settings
    token = tokens.issue(
        found.id, request.app.ctx.bot_secret, settings.token_ttl_seconds, service.now()
    )
    return json_response(
        {
            "conversation_id": found.id,
            "token": token,
            "state": found.state,
            "updated_at": found.updated_at.isoformat(),
        }
    )
