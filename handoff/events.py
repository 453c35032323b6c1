"""A small publish/subscribe bus for things that happened, delivered after commit.

The service layer publishes only after its database transaction committed, so a
subscriber never sees an event for a change that was rolled back. The in-process
bus delivers to per-subscriber asyncio queues; :class:`handoff.redis_bus.RedisEventBus`
implements :class:`EventBus` over Redis pub/sub so several web workers share events.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Iterable, Protocol

from .contract import EventName

logger = logging.getLogger(__name__)

# The names are the contract's (handoff.contract.EventName), as plain strings.
CONVERSATION_QUEUED = EventName.CONVERSATION_QUEUED.value
CONVERSATION_ASSIGNED = EventName.CONVERSATION_ASSIGNED.value
MESSAGE_CREATED = EventName.MESSAGE_CREATED.value
CONVERSATION_RETURNED_TO_BOT = EventName.CONVERSATION_RETURNED_TO_BOT.value
CONVERSATION_CLOSED = EventName.CONVERSATION_CLOSED.value
CONVERSATION_CANCELLED = EventName.CONVERSATION_CANCELLED.value
QUEUE_CHANGED = EventName.QUEUE_CHANGED.value
TICKET_CREATED = EventName.TICKET_CREATED.value
TICKET_UPDATED = EventName.TICKET_UPDATED.value
AGENT_STATUS_CHANGED = EventName.AGENT_STATUS_CHANGED.value
NOTE_CREATED = EventName.NOTE_CREATED.value
# Internal: closes the desk sockets of a signed-out session; never sent to a client.
SESSION_REVOKED = EventName.SESSION_REVOKED.value
# Internal: every web worker reads the support hours again; never sent to a client.
SUPPORT_HOURS_CHANGED = EventName.SUPPORT_HOURS_CHANGED.value
# Internal, put in every subscription when live events may have been missed (the bus
# lost its broker for a while): a socket closes so its client reconnects and catches
# up from the database by message id. Never sent to a client.
BUS_RESYNC = "bus.resync"


@dataclass(frozen=True)
class Event:
    """Something that happened; ``conversation_id`` is set when it concerns one chat."""

    name: str
    data: dict[str, Any]
    conversation_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The wire form pushed to websockets: ``{"event": name, "data": {...}}``."""
        return {"event": self.name, "data": self.data}


@dataclass(eq=False)
class Subscription:
    """One subscriber's view of the bus: an ordered queue of matching events.

    Use ``await sub.get()`` or ``async for event in sub``; call
    :meth:`EventBus.unsubscribe` (or use the subscription as an async context
    manager through :meth:`InProcessEventBus.listen`) when done.
    """

    conversation_id: str | None = None
    names: frozenset[str] | None = None
    queue: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)

    def matches(self, event: Event) -> bool:
        """True when this subscription wants ``event``."""
        if self.names is not None and event.name not in self.names:
            return False
        if self.conversation_id is not None:
            return event.conversation_id == self.conversation_id
        return True

    async def get(self) -> Event:
        """Wait for the next matching event."""
        return await self.queue.get()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()


class EventBus(Protocol):
    """What the service layer and the websockets need from a bus."""

    def subscribe(
        self,
        conversation_id: str | None = None,
        names: Iterable[str] | None = None,
        local_only: bool = False,
    ) -> Subscription:
        """Start receiving events (optionally of one conversation or some names).

        ``local_only``: only events published by this process (a reaction that must
        happen once, not once per web worker)."""

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop receiving events; unknown subscriptions are ignored."""

    async def publish(self, events: Iterable[Event]) -> None:
        """Deliver committed events to every matching subscriber, in order."""


class InProcessEventBus:
    """The default bus: delivers to subscribers in the same process."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    def subscribe(
        self,
        conversation_id: str | None = None,
        names: Iterable[str] | None = None,
        local_only: bool = False,
    ) -> Subscription:
        """Start receiving events (optionally of one conversation or some names);
        in one process every event is local, so ``local_only`` changes nothing."""
        sub = Subscription(
            conversation_id=conversation_id,
            names=frozenset(names) if names is not None else None,
        )
        self._subscriptions.add(sub)
        return sub

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop receiving events; unknown subscriptions are ignored."""
        self._subscriptions.discard(subscription)

    def listen(
        self,
        conversation_id: str | None = None,
        names: Iterable[str] | None = None,
    ) -> _Listening:
        """``async with bus.listen(conversation_id=cid) as sub:`` subscribes for a block."""
        return _Listening(self, conversation_id, names)

    async def publish(self, events: Iterable[Event]) -> None:
        """Deliver committed events to every matching subscriber, in order."""
        for event in events:
            for sub in list(self._subscriptions):
                if sub.matches(event):
                    sub.queue.put_nowait(event)
            logger.debug("published %s %s", event.name, event.conversation_id or "")

    def resync(self) -> None:
        """Tell every subscriber that live events may have been missed (BUS_RESYNC)."""
        for sub in list(self._subscriptions):
            sub.queue.put_nowait(Event(BUS_RESYNC, {}))

    @property
    def subscriber_count(self) -> int:
        """How many subscriptions are live (used by tests and health checks)."""
        return len(self._subscriptions)


class _Listening:
    def __init__(
        self,
        bus: InProcessEventBus,
        conversation_id: str | None,
        names: Iterable[str] | None,
    ) -> None:
        self._bus = bus
        self._args = (conversation_id, names)
        self._sub: Subscription | None = None

    async def __aenter__(self) -> Subscription:
        self._sub = self._bus.subscribe(*self._args)
        return self._sub

    async def __aexit__(self, *exc: Any) -> None:
        if self._sub is not None:
            self._bus.unsubscribe(self._sub)
