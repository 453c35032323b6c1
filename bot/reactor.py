"""Reacts, once per event, to what happens on the desk side.

One app-wide subscription (not one per websocket, so a notice is stored once however
many tabs are open): a person joined -> store "<name> joined the chat"; the chat went
back to the bot -> run ``action_handback`` and store "The assistant is back." (or, when
the assistant cannot answer, a notice that says so).
"""

from __future__ import annotations

import asyncio
import logging

from handoff.events import (
    CONVERSATION_ASSIGNED,
    CONVERSATION_RETURNED_TO_BOT,
    Event,
    EventBus,
    Subscription,
)

from .gateway import Gateway

logger = logging.getLogger(__name__)
EVENTS = (CONVERSATION_ASSIGNED, CONVERSATION_RETURNED_TO_BOT)


class Reactor:
    """Subscribe early (``subscribe``), then ``run`` as a background task."""

    def __init__(self, bus: EventBus, gateway: Gateway) -> None:
        self.bus = bus
        self.gateway = gateway
        self._sub: Subscription | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self) -> None:
        """Start collecting events (before the server accepts requests)."""
        if self._sub is None:
            # This worker's events only: with several workers each reacts to its own.
            self._sub = self.bus.subscribe(names=EVENTS, local_only=True)

    async def run(self) -> None:
        """Handle events until cancelled; one task per event so a slow Rasa call in
        one chat does not hold up the others (the gateway's lock keeps each chat in order)."""
        self.subscribe()
        assert self._sub is not None
        try:
            while True:
                event = await self._sub.get()
                task = asyncio.ensure_future(self._handle(event))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        finally:
            self.bus.unsubscribe(self._sub)
            self._sub = None
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, event: Event) -> None:
        cid = event.conversation_id
        if cid is None:
            return
        try:
            if event.name == CONVERSATION_ASSIGNED and event.data.get("agent_id") is not None:
                await self.gateway.agent_joined(cid, event.data.get("agent_name"))
            elif event.name == CONVERSATION_RETURNED_TO_BOT:
                await self.gateway.bot_is_back(cid)
        except Exception:  # one bad event must not stop the others
            logger.exception("could not react to %s in %s", event.name, cid)
