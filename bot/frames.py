"""What the customer's widget receives: messages and events in the customer's view.

Pure functions, so the websocket and the HTTP API serialise the same way and never
leak desk-only fields (agent ids, handoff context).
"""

from __future__ import annotations

from typing import Any, Mapping

from handoff.events import (
    CONVERSATION_ASSIGNED,
    CONVERSATION_CLOSED,
    CONVERSATION_RETURNED_TO_BOT,
    TICKET_CREATED,
)
from handoff.presence import SEEN, TYPING


def message_view(message: Mapping[str, Any]) -> dict[str, Any]:
    """A stored message (``Message.to_json()`` or event data) as the customer sees it."""
    return {
        "id": message["id"],
        "author": message["author"],
        # The widget labels a message itself (its locale's words, or the agent's name).
        "agent_name": message.get("agent_name") if message["author"] == "agent" else None,
        "text": message["text"],
        "buttons": message.get("buttons") or [],
        "created_at": message["created_at"],
    }


def event_frame(name: str, data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The widget frame for a bus event that needs no lookup, or None."""
    if name == CONVERSATION_ASSIGNED:
        if data.get("agent_id") is None:
            return None  # back in the queue; the queue frame says where
        return {"type": "agent_joined", "agent_name": data.get("agent_name"), "state": "assigned"}
    if name == CONVERSATION_RETURNED_TO_BOT:
        return {"type": "bot_back", "by": data.get("by"), "state": "bot"}
    if name == CONVERSATION_CLOSED:
        return {"type": "closed", "closed_by": data.get("closed_by"), "state": "closed"}
    if name == TYPING:  # the customer's own typing comes back on this socket: not shown
        return {"type": "typing", "name": data.get("name")} if data.get("who") == "agent" else None
    if name == SEEN:
        return {"type": "seen", "message_id": data.get("message_id")}
    if name == TICKET_CREATED:
        ticket = data.get("ticket") or {}
        if ticket.get("contact"):
            return None  # the customer already left their details
        return {"type": "offline", "ticket_id": ticket.get("id")}
    return None


def queue_frame(position: int | None, wait_seconds: int | None) -> dict[str, Any]:
    """The customer's place in line."""
    return {
        "type": "queue",
        "position": position,
        "estimated_wait_seconds": wait_seconds,
        "state": "queued",
    }
