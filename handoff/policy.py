"""Who may see what: the only place that decides an agent's access to a chat."""

from __future__ import annotations

from .service.types import Agent, Conversation


def can_view(agent: Agent, conversation: Conversation, has_ticket: bool = False) -> bool:
    """Agents see waiting chats, their own chats, and chats behind an offline ticket."""
    if conversation.state == "queued":
        return True
    if conversation.state == "assigned" and conversation.agent_id == agent.id:
        return True
    return has_ticket


def sees_message(agent_id: int, state: str, owner_id: object) -> bool:
    """Whether a live ``message.created`` (with its conversation's state) goes to this desk."""
    return state == "queued" or (state == "assigned" and owner_id == agent_id)
