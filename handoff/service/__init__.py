"""The service layer: every state change and query of the agent side.

Build one :class:`HandoffService` per process (``register_handoff`` puts it on
``app.ctx.handoff``) and call its coroutine methods; see each mixin for details.
"""

from __future__ import annotations

from .agents import AgentsMixin
from .assignment import AssignmentMixin
from .base import Clock, utcnow
from .conversations import ConversationsMixin
from .errors import AuthFailed, Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from .queue import QueueMixin
from .sessions import SessionsMixin
from .tickets import TicketsMixin
from .types import (
    Agent,
    Conversation,
    ConversationDetail,
    EnqueueResult,
    Handoff,
    Message,
    QueueItem,
    QueueStatus,
    Ticket,
)


class HandoffService(
    ConversationsMixin, QueueMixin, AssignmentMixin, AgentsMixin, SessionsMixin, TicketsMixin
):
    """Conversations, queue, assignment, agents, sessions, tickets and CSAT in one object."""


__all__ = [
    "Agent",
    "AuthFailed",
    "Clock",
    "Conflict",
    "Conversation",
    "ConversationDetail",
    "EnqueueResult",
    "Forbidden",
    "Handoff",
    "HandoffService",
    "InvalidInput",
    "Message",
    "NotFound",
    "QueueItem",
    "QueueStatus",
    "ServiceError",
    "Ticket",
    "utcnow",
]
