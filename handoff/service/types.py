"""Plain result objects returned by the service layer (JSON-ready via ``to_json``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional


def iso(value: Optional[dt.datetime]) -> Optional[str]:
    """ISO 8601 in UTC with a ``Z``-free offset, or None."""
    return value.isoformat() if value is not None else None


def _json(obj: Any) -> Dict[str, Any]:
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
    agent_id: Optional[int]
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: Optional[dt.datetime] = None

    def to_json(self) -> Dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class Message:
    """One stored message; ids increase, so clients catch up with ``after_id``."""

    id: int
    conversation_id: str
    author: str
    text: str
    created_at: dt.datetime
    agent_id: Optional[int] = None
    agent_name: Optional[str] = None
    buttons: Optional[List[Dict[str, Any]]] = None

    def to_json(self) -> Dict[str, Any]:
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
    last_seen_at: Optional[dt.datetime] = None
    load: int = 0

    def to_json(self) -> Dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class Handoff:
    """Why and when a conversation was escalated, with the action layer's context."""

    id: int
    conversation_id: str
    reason: str
    context: Dict[str, Any]
    queued_at: dt.datetime
    assigned_at: Optional[dt.datetime] = None
    first_response_at: Optional[dt.datetime] = None
    closed_at: Optional[dt.datetime] = None
    agent_id: Optional[int] = None
    offline: bool = False
    outcome: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class QueueItem:
    """A waiting chat as the desk lists it."""

    conversation_id: str
    reason: str
    queued_at: dt.datetime
    waited_seconds: int
    first_message: Optional[str]
    summary: Optional[str]
    position: int

    def to_json(self) -> Dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class EnqueueResult:
    """What happened to a handoff request.

    ``outcome`` is ``queued`` (with position and estimated wait), ``assigned`` (an
    agent took it at once) or ``offline`` (a ticket was opened; ``next_opening`` is
    when support opens again, None when it is open but nobody is online).
    """

    outcome: str
    conversation_id: str
    position: Optional[int] = None
    estimated_wait_seconds: Optional[int] = None
    agent_name: Optional[str] = None
    ticket_id: Optional[int] = None
    offline_reason: Optional[str] = None
    next_opening: Optional[dt.datetime] = None
    message: str = ""

    def to_json(self) -> Dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class QueueStatus:
    """A queued conversation's place in line."""

    position: int
    estimated_wait_seconds: Optional[int]

    def to_json(self) -> Dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class Ticket:
    """An offline ticket: the customer's contact details for a later answer."""

    id: int
    conversation_id: str
    state: str
    created_at: dt.datetime
    updated_at: dt.datetime
    contact: Optional[str] = None
    message: Optional[str] = None
    handoff_id: Optional[int] = None
    reason: Optional[str] = None
    done_by: Optional[int] = None

    def to_json(self) -> Dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class ConversationDetail:
    """Everything the desk shows for one chat."""

    conversation: Conversation
    handoff: Optional[Handoff]
    messages: List[Message] = field(default_factory=list)

    def to_json(self) -> Dict[str, Any]:
        return {
            "conversation": self.conversation.to_json(),
            "handoff": self.handoff.to_json() if self.handoff else None,
            "messages": [m.to_json() for m in self.messages],
        }
