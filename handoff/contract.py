"""What crosses process boundaries, defined once: actions -> web app -> browsers.

The action server sends a *handoff request* inside a Rasa ``custom`` reply; the web app
stores it as the handoff's context; the widget and the desk get their limits and labels
from the server (``desk_config``, ``widget_limits``) and speak the websocket frames named
here. ``actions`` may import nothing of the web app: its copy of the reason names is
checked against :class:`HandoffReason` by a test.
"""

from __future__ import annotations

import enum
from typing import Any, Mapping, cast

from typing_extensions import Literal, TypedDict

#: The longest message a customer, an agent or the bot may store (per message).
MAX_MESSAGE_CHARS = 2000
#: The key of the Rasa ``custom`` payload that carries a handoff request.
HANDOFF_KEY = "handoff"
#: Version 2 dropped ``transcript`` (the desk renders the stored messages); version 1
#: requests are still read, their transcript ignored.
HANDOFF_REQUEST_VERSION = 2


class HandoffReason(str, enum.Enum):
    """Why a conversation goes to a person (the database CHECK derives from this)."""

    CUSTOMER_REQUEST = "customer_request"
    LOW_CONFIDENCE = "low_confidence"
    FRUSTRATION = "frustration"
    UNHELPFUL_ANSWER = "unhelpful_answer"


REASONS = tuple(reason.value for reason in HandoffReason)
#: How the desk labels each reason (sent to it by ``GET /api/agent/config``).
REASON_LABELS = {
    HandoffReason.CUSTOMER_REQUEST.value: "Asked for a person",
    HandoffReason.LOW_CONFIDENCE.value: "Bot unsure",
    HandoffReason.FRUSTRATION.value: "Frustrated",
    HandoffReason.UNHELPFUL_ANSWER.value: "Answer didn't help",
}


class Frustration(TypedDict):
    """The frustration detector's view of the conversation."""

    score: float
    cues: list[str]


class HandoffRequest(TypedDict, total=False):
    """The action layer's request for a person (every key but ``reason`` optional)."""

    version: int
    conversation_id: str | None
    reason: str
    summary: str
    intents: list[dict[str, Any]]
    frustration: Frustration
    faq_answers: list[Any]


def read_handoff_request(raw: Mapping[str, Any]) -> HandoffRequest:
    """A handoff request of version 1 or 2 as version 2: an unknown reason becomes
    ``customer_request`` (the customer still gets a person) and the v1 transcript is
    dropped."""
    request: dict[str, Any] = {k: v for k, v in raw.items() if k != "transcript"}
    reason = request.get("reason")
    request["reason"] = reason if reason in REASONS else HandoffReason.CUSTOMER_REQUEST.value
    request["version"] = HANDOFF_REQUEST_VERSION
    return cast(HandoffRequest, request)


def reason_check_sql(column: str = "reason") -> str:
    """The SQL CHECK that keeps ``column`` to the known reasons."""
    return f"{column} IN ({', '.join(repr(reason) for reason in REASONS)})"


class ButtonAction(str, enum.Enum):
    """Widget buttons that run a widget action instead of sending their title as text."""

    HANDOFF = "handoff"
    CONTACT = "contact"


class ActionButton(TypedDict):
    """``{"title": ..., "action": "handoff" | "contact"}``: the widget acts on it."""

    title: str
    action: Literal["handoff", "contact"]


class ReplyButton(TypedDict):
    """``{"title": ..., "payload": ...}``: a quick reply, sent back as the payload."""

    title: str
    payload: str


class FrameType(str, enum.Enum):
    """The ``type`` of every websocket frame, both sockets, both directions."""

    HELLO = "hello"  # client -> server, first frame, carries the token
    PING = "ping"  # client -> server heartbeat
    PONG = "pong"
    READY = "ready"
    ERROR = "error"
    MESSAGE = "message"  # customer socket
    QUEUE = "queue"
    AGENT_JOINED = "agent_joined"
    BOT_BACK = "bot_back"
    CLOSED = "closed"
    OFFLINE = "offline"
    EVENT = "event"  # desk socket: {"type": "event", "event": <event name>, "data": ...}
    TYPING = "typing"  # both sockets, both directions (throttled, never stored)
    SEEN = "seen"  # desk -> server {conversation_id, message_id}; server -> widget {message_id}


class EventName(str, enum.Enum):
    """Names of the events the desk socket carries (and the in-process bus publishes)."""

    CONVERSATION_QUEUED = "conversation.queued"
    CONVERSATION_ASSIGNED = "conversation.assigned"
    MESSAGE_CREATED = "message.created"
    CONVERSATION_RETURNED_TO_BOT = "conversation.returned_to_bot"
    CONVERSATION_CLOSED = "conversation.closed"
    CONVERSATION_CANCELLED = "conversation.cancelled"
    QUEUE_CHANGED = "queue.changed"
    TICKET_CREATED = "ticket.created"
    TICKET_UPDATED = "ticket.updated"
    AGENT_STATUS_CHANGED = "agent.status_changed"
    # A private note: desks only, never a customer (published without a conversation id).
    NOTE_CREATED = "note.created"
    # Never stored: someone is typing (agent or customer); an agent read up to a message.
    TYPING = "conversation.typing"
    SEEN = "conversation.seen"
    # Internal: closes the desk sockets of a signed-out session; never sent to a client.
    SESSION_REVOKED = "session.revoked"
    # Internal: an admin changed the support hours; every web worker reads them again.
    SUPPORT_HOURS_CHANGED = "support_hours.changed"


def desk_config() -> dict[str, Any]:
    """What the desk reads from the server instead of keeping its own copies."""
    return {"max_message_chars": MAX_MESSAGE_CHARS, "reason_labels": dict(REASON_LABELS)}


def widget_limits(max_message_chars: int) -> dict[str, Any]:
    """The limits the widget reads from the start (and status) response."""
    return {"max_message_chars": min(max_message_chars, MAX_MESSAGE_CHARS)}
