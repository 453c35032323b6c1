"""Plain result objects returned by the service layer (JSON-ready via ``to_json``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``-free offset, or None."""
    return value.isoformat() if value is not None else None


def _json(obj: Any) -> dict[str, Any]:
    out = asdict(obj)
    for key, value in out.items():
        if isinstance(value, dt.datetime):
            out[key] = iso(value)
    return out


@dataclass(frozen=True)
class Conversation:
    """A chat between a customer and the bot or one agent."""

    id: str
    state: str
    agent_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class Message:
    """One stored message; ids increase, so clients catch up with ``after_id``."""

    id: int
    conversation_id: str
    author: str
    text: str
    created_at: dt.datetime
    agent_id: int | None = None
    agent_name: str | None = None
    buttons: list[dict[str, Any]] | None = None

    def to_json(self) -> dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class Agent:
    """A person answering chats (never carries the password hash)."""

    id: int
    login: str
    name: str
    max_chats: int
    online: bool
    disabled: bool
    last_seen_at: dt.datetime | None = None
    load: int = 0
    role: str = "agent"

    @property
    def is_admin(self) -> bool:
        """Admins also manage agents, saved replies and labels."""
        return self.role == "admin"

    def to_json(self) -> dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class Handoff:
    """Why and when a conversation was escalated, with the action layer's context."""

    id: int
    conversation_id: str
    reason: str
    context: dict[str, Any]
    queued_at: dt.datetime
    assigned_at: dt.datetime | None = None
    first_response_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    agent_id: int | None = None
    offline: bool = False
    outcome: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class QueueItem:
    """A waiting chat as the desk lists it."""

    conversation_id: str
    reason: str
    queued_at: dt.datetime
    waited_seconds: int
    first_message: str | None
    summary: str | None
    position: int
    customer_label: str = ""  # the identified customer's name, else "Visitor 3fQx9a"

    def to_json(self) -> dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class EnqueueResult:
    """What happened to a handoff request.

    ``outcome`` is ``queued`` (with position and estimated wait), ``assigned`` (an
    agent took it at once) or ``offline`` (a ticket was opened; ``next_opening`` is
    when support opens again, None when it is open but nobody is online). ``message``
    is what to tell the customer about an ``offline`` outcome ("" otherwise: the queue
    notice and "<name> joined the chat." are the customer side's own).
    """

    outcome: str
    conversation_id: str
    position: int | None = None
    estimated_wait_seconds: int | None = None
    agent_name: str | None = None
    ticket_id: int | None = None
    offline_reason: str | None = None
    next_opening: dt.datetime | None = None
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class QueueStatus:
    """A queued conversation's place in line."""

    position: int
    estimated_wait_seconds: int | None

    def to_json(self) -> dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class Ticket:
    """An offline ticket: the customer's contact details for a later answer."""

    id: int
    conversation_id: str
    state: str
    created_at: dt.datetime
    updated_at: dt.datetime
    contact: str | None = None
    message: str | None = None
    handoff_id: int | None = None
    reason: str | None = None
    done_by: int | None = None

    def to_json(self) -> dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class ConversationDetail:
    """Everything the desk shows for one chat."""

    conversation: Conversation
    handoff: Handoff | None
    messages: list[Message] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation": self.conversation.to_json(),
            "handoff": self.handoff.to_json() if self.handoff else None,
            "messages": [m.to_json() for m in self.messages],
        }


@dataclass(frozen=True)
class Customer:
    """A customer the shop vouched for with a signed identity (``external_id`` is the
    shop's own id for them)."""

    id: int
    external_id: str
    name: str | None
    email: str | None
    created_at: dt.datetime
    last_seen_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class PastConversation:
    """One earlier conversation of a customer, as the desk lists it."""

    id: str
    state: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    reason: str | None  # of its latest handoff; None when the bot handled it alone
    csat: int | None

    def to_json(self) -> dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class CustomerCard:
    """Who is behind a conversation: the label the desk shows ("Visitor 3fQx9a" for an
    anonymous chat), the customer when identified, and their earlier conversations."""

    label: str
    customer: Customer | None
    earlier: list[PastConversation] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "identified": self.customer is not None,
            "customer": self.customer.to_json() if self.customer else None,
            "earlier": [c.to_json() for c in self.earlier],
        }
