"""Bot or person? Pure decisions about a conversation's messages (no I/O here).

The gateway (``bot.gateway``) does the I/O around these functions: it stores, calls
Rasa, enqueues and pushes. Keeping the decisions pure makes the invariants easy to
test: the bot is asked only in state ``bot``, and a customer can never type an intent.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from handoff.contract import HANDOFF_KEY, read_handoff_request

#: Rasa's RegexMessageHandler reads a text starting with "/" (after ``str.strip()``)
#: as ``/intent{entities}``. A zero-width space is not whitespace for ``str.strip`` and
#: is dropped by the tokenizer, so the text reaches NLU as plain words.
INTENT_PREFIX = "/"
NEUTRALISER = "\u200b"


class Action(enum.Enum):
    """What to do with a customer message."""

    ASK_BOT = "ask_bot"  # store it, then send it to Rasa
    TO_AGENT = "to_agent"  # store it; the desk gets it; Rasa is never called
    REFUSE = "refuse"  # the conversation is closed: store nothing


@dataclass(frozen=True)
class Route:
    """The decision for one customer message."""

    action: Action
    rasa_text: str | None = None
    reason: str = ""


#: Why a message to a closed conversation is refused (nothing is stored).
CLOSED = "this conversation is closed: start a new chat"


def route_customer_message(state: str, text: str) -> Route:
    """Decide what happens to ``text`` sent by the customer in a conversation in ``state``.

    Args:
        state: ``bot``, ``queued``, ``assigned`` or ``closed``.
        text: the customer's message as typed (already validated).

    Returns:
        ``ASK_BOT`` (with the text Rasa must see) only in state ``bot``; ``TO_AGENT``
        while a person is coming or there; ``REFUSE`` when closed or unknown.
    """
    if state == "bot":
        return Route(Action.ASK_BOT, rasa_safe_text(text))
    if state in ("queued", "assigned"):
        return Route(Action.TO_AGENT, reason=f"a person handles this chat ({state})")
    return Route(Action.REFUSE, reason=CLOSED)


#: Words that ask for a person. Only used while Rasa cannot tell (it is down or full):
#: then a wrong "yes" costs a person's look at the chat, a wrong "no" a stranded customer.
_PERSON_WORDS = re.compile(
    r"\b(human|person|people|agent|someone|somebody|representative|operator|staff|"
    r"manager|customer service|real person|live chat)\b",
    re.IGNORECASE,
)


def asks_for_person(text: str) -> bool:
    """Does the customer ask for a person? The fallback used when NLU is out of reach."""
    return bool(_PERSON_WORDS.search(text))


def rasa_safe_text(text: str) -> str:
    """The text as Rasa must receive it: never an ``/intent`` command."""
    if text.strip().startswith(INTENT_PREFIX):
        return NEUTRALISER + text.strip()
    return text


@dataclass(frozen=True)
class BotMessage:
    """One visible message from the bot."""

    text: str
    buttons: list[dict[str, str]] | None = None


@dataclass(frozen=True)
class BotTurn:
    """Rasa's replies, split into what the customer sees and a handoff request."""

    messages: list[BotMessage] = field(default_factory=list)
    handoff: dict[str, Any] | None = None  # as sent: read_handoff_request reads it

    @property
    def silent(self) -> bool:
        """Nothing to show and no handoff: every real turn has one or the other, so
        this is a failed action (Rasa answers 200 with an empty list then)."""
        return not self.messages and self.handoff is None


def read_replies(replies: Sequence[Mapping[str, Any]], choose: str) -> BotTurn:
    """Interpret Rasa's REST replies (or ``execute``'s ``messages``).

    A ``custom`` payload with a ``handoff`` key is the action layer's handoff request
    and is never shown; other replies become visible messages (text, quick replies).
    """
    messages: list[BotMessage] = []
    handoff: dict[str, Any] | None = None
    for reply in replies:
        if not isinstance(reply, Mapping):
            continue
        custom = reply.get("custom")
        if isinstance(custom, Mapping) and isinstance(custom.get(HANDOFF_KEY), Mapping):
            handoff = dict(custom[HANDOFF_KEY])
            continue
        text = reply.get("text")
        if not isinstance(text, str) and isinstance(custom, Mapping):
            text = custom.get("text")
        if not isinstance(text, str) and isinstance(reply.get("image"), str):
            text = reply["image"]
        buttons = _buttons(reply.get("buttons"))
        if isinstance(text, str) and text.strip():
            messages.append(BotMessage(text, buttons))
        elif buttons:
            messages.append(BotMessage(choose, buttons))
    return BotTurn(messages, handoff)


def split_long(text: str, limit: int) -> list[str]:
    """Split a bot text longer than ``limit`` into parts at spaces (the store keeps at
    most ``limit`` characters per message, and no answer may be lost)."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind(" ", 0, limit + 1)
        cut = cut if cut > limit // 2 else limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def _buttons(raw: Any) -> list[dict[str, str]] | None:
    if not isinstance(raw, list):
        return None
    buttons = [
        {"title": str(b["title"]), "payload": str(b.get("payload") or b["title"])}
        for b in raw
        if isinstance(b, Mapping) and b.get("title")
    ]
    return buttons or None


def handoff_reason(request: Mapping[str, Any]) -> str:
    """The handoff reason the action layer gave, ``customer_request`` if none or unknown."""
    return read_handoff_request(request)["reason"]
