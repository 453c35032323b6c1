"""Live presence: who is online, away or offline, typing indicators and "seen".

Typing and "seen" are never stored: they travel on the bus as events routed to the
conversation (so the customer's socket gets the agent's) and are throttled per
conversation and side, so a held key cannot flood either socket.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Callable

from .contract import EventName
from .events import Event, EventBus

TYPING = EventName.TYPING.value
SEEN = EventName.SEEN.value
# At most one typing event per conversation and side this often; the widget and the
# desk show "typing…" for a few seconds after the last one.
TYPING_INTERVAL_SECONDS = 2.0


def presence_of(
    online: bool, last_seen_at: dt.datetime | None, now: dt.datetime, timeout: float
) -> str:
    """``online`` (taking chats, desk connected), ``away`` (desk connected, not taking
    chats) or ``offline`` (no desk heartbeat within ``timeout``: the tab was closed)."""
    fresh = last_seen_at is not None and (now - last_seen_at).total_seconds() <= timeout
    if not fresh:
        return "offline"
    return "online" if online else "away"


class Throttle:
    """Lets one event per key through every ``interval`` seconds (in memory)."""

    def __init__(
        self, interval: float = TYPING_INTERVAL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self.clock = clock
        self._last: dict[str, float] = {}

    def allow(self, key: str) -> bool:
        """True when ``key`` has had nothing through for ``interval`` seconds."""
        now = self.clock()
        if now - self._last.get(key, float("-inf")) < self.interval:
            return False
        if len(self._last) > 10_000:  # forget old keys rather than grow without end
            self._last = {k: v for k, v in self._last.items() if now - v < self.interval}
        self._last[key] = now
        return True


def typing_key(conversation_id: str, who: str) -> str:
    """The throttle key of one side of one chat (check it before any database read)."""
    return f"{conversation_id}:{who}"


async def publish_typing(bus: EventBus, conversation: Any, who: str, name: str | None) -> None:
    """Tell the other side someone is typing (``who``: agent or customer). Callers gate it
    with :class:`Throttle` and :func:`typing_key` first. ``conversation`` carries the
    state and owner the desk filters on."""
    data = {
        "conversation_id": conversation.id,
        "who": who,
        "name": name,
        "conversation_state": conversation.state,
        "conversation_agent_id": conversation.agent_id,
    }
    await bus.publish([Event(TYPING, data, conversation.id)])


async def publish_seen(bus: EventBus, conversation_id: str, message_id: int) -> None:
    """Tell the customer an agent has read their messages up to ``message_id``."""
    data = {"conversation_id": conversation_id, "message_id": message_id}
    await bus.publish([Event(SEEN, data, conversation_id)])
