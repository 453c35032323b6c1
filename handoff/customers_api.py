"""Returning customers in the desk: who is behind a chat and their earlier chats.

Read-only, for signed-in agents, and only through a conversation the agent may see
(:func:`handoff.http.visible_conversation`): an earlier chat opens only when it is the
same identified customer's. Customers never reach these routes (a customer token is
not an agent session).
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from .http import agent_required, service_of, visible_conversation

bp = Blueprint("handoff_customers", url_prefix="/api/agent/conversations")


@bp.get("/<conversation_id:str>/customer")
@agent_required
async def customer(request: Request, conversation_id: str) -> HTTPResponse:
    """The customer's label, identity and earlier conversations (dates, reason, CSAT)."""
    await visible_conversation(request, conversation_id)
    card = await service_of(request).customer_card(conversation_id)
    return json_response(card.to_json())


@bp.get("/<conversation_id:str>/customer/earlier/<earlier_id:str>")
@agent_required
async def earlier(request: Request, conversation_id: str, earlier_id: str) -> HTTPResponse:
    """The transcript of one of the customer's earlier conversations."""
    await visible_conversation(request, conversation_id)
    found = await service_of(request).earlier_messages(conversation_id, earlier_id)
    return json_response({"conversation_id": earlier_id, "messages": [m.to_json() for m in found]})
