"""Who may see what: the only place that decides an agent's access to a chat.

The rules are written once as plain functions (on a conversation's state and owner) and
once as the SQL the queries filter with, side by side so they cannot drift apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.sql.elements import ColumnElement

from .models import conversations

if TYPE_CHECKING:  # only for hints: the service imports this module
    from .service.types import Agent, Conversation


def owns(agent_id: int | None, state: str, owner_id: object) -> bool:
    """Whether the agent owns the chat: it is assigned to them."""
    return agent_id is not None and state == "assigned" and owner_id == agent_id


def sees_message(agent_id: int, state: str, owner_id: object) -> bool:
    """Whether a live ``message.created`` (with its conversation's state) goes to this desk."""
    return state == "queued" or owns(agent_id, state, owner_id)


def may_close(agent_id: int, state: str, owner_id: object) -> bool:
    """An agent closes a chat that waits in the queue or that they own."""
    return sees_message(agent_id, state, owner_id)


def can_view(agent: Agent, conversation: Conversation, has_ticket: bool = False) -> bool:
    """Agents see waiting chats, their own chats, and chats behind an offline ticket."""
    return sees_message(agent.id, conversation.state, conversation.agent_id) or has_ticket


def may_annotate(
    agent: Agent, conversation: Conversation, has_ticket: bool, last_agent_id: object
) -> bool:
    """Notes and labels: on a chat the agent can view, and on one that has ended (closed
    or handed back) after they had it last: wrap-up happens after the chat."""
    if can_view(agent, conversation, has_ticket):
        return True
    return conversation.state in ("bot", "closed") and last_agent_id == agent.id


def may_read_history(agent: Agent, conversation: Conversation) -> bool:
    """Any active agent reads any conversation's history, read-only (search results):
    a team answers for each other's past chats. Writing stays with :func:`owns`."""
    return not agent.disabled


def may_administer(agent: Agent) -> bool:
    """Only admins manage agents, saved replies, labels and read the audit log."""
    return agent.role == "admin" and not agent.disabled


def visible_to(agent_id: int) -> ColumnElement[bool]:
    """:func:`sees_message` as SQL on ``conversations``: waiting chats and the agent's own."""
    return (conversations.c.state == "queued") | (
        (conversations.c.state == "assigned") & (conversations.c.agent_id == agent_id)
    )
