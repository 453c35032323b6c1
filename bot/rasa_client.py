"""The Rasa client: the REST channel for customer messages, the HTTP API for actions.

One ``aiohttp.ClientSession`` per process (connections are reused); every failure
(refused, timeout, non-2xx, bad JSON) becomes :class:`RasaUnavailable` so the gateway
has one thing to handle.

Admission control: Rasa serialises its CPU work, so a pile of requests at it only makes
our timeout fire while Rasa still processes the message later (its reply lost, its
tracker ahead of our database). At most ``max_in_flight`` requests are in flight; the
others wait, first come first served, at most ``queue_seconds`` for a slot, and then
get :class:`RasaBusy` *before* Rasa has seen anything. The slots are this web worker's
(``BOT_RASA_MAX_IN_FLIGHT`` is per worker), shared by all its Rasa servers.

Several Rasa servers (``RASA_URLS``): :class:`bot.rasa_pool.RasaPool` picks one per
call. A call whose first request is refused (that server is down: it saw nothing) goes
to the next server at once, so one Rasa stopping costs the customer nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Sequence

import aiohttp

from .rasa_pool import RasaPool, RasaServer

logger = logging.getLogger(__name__)

# Rasa's ``execute`` needs an existing tracker, and runs a due session start without an
# output channel (the disclosure would be lost, with an error in Rasa's log). So the
# tracker is created already started and listening (events that begin with a session
# start are stored as they are), then ``action_session_start`` runs for real, with its
# messages collected: our custom one utters the disclosure and ends listening.
NEW_TRACKER_EVENTS = [
    {"event": "action", "name": "action_session_start"},
    {"event": "session_started"},
    {"event": "action", "name": "action_listen"},
]


class RasaUnavailable(Exception):
    """Rasa did not answer usefully (down, slow, error status or unknown action)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RasaBusy(RasaUnavailable):
    """No request slot came free in time: Rasa has not seen this request at all."""


class RasaRefused(RasaUnavailable):
    """The server refused the connection: it has seen nothing of the request."""


class RasaSilent(RasaUnavailable):
    """Rasa answered, but with nothing to show: its custom actions failed (Rasa logs
    the error and answers 200 with an empty list)."""


class Slots:
    """At most ``size`` holders at once; waiters are served first come, first served.

    A released slot is handed straight to the oldest waiter (no barging), so under load
    the customer who has waited longest goes next and nobody waits past their limit
    because newcomers keep overtaking them (``asyncio.Semaphore`` in 3.10 allows that).
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("at least one slot is needed")
        self.size = size
        self._free = size
        self._waiters: deque[asyncio.Future[bool]] = deque()

    @property
    def in_use(self) -> int:
        """Slots held right now."""
        return self.size - self._free

    async def acquire(self, timeout: float) -> bool:
        """Take a slot, waiting at most ``timeout`` seconds; False when none came."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        if timeout <= 0:
            return False
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiters.append(waiter)
        expiry = loop.call_later(timeout, _settle, waiter, False)
        try:
            return await waiter
        except asyncio.CancelledError:
            # Cancelled just after a slot was handed over: pass it on, never leak it.
            if waiter.done() and not waiter.cancelled() and waiter.result():
                self.release()
            raise
        finally:
            expiry.cancel()
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def release(self) -> None:
        """Give the slot to the oldest live waiter, else free it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(True)
                return
        self._free += 1


def _settle(waiter: asyncio.Future[bool], value: bool) -> None:
    if not waiter.done():
        waiter.set_result(value)


class RasaClient:
    """Talks to one Rasa server, or several sharing a tracker store; call :meth:`close`
    on shutdown.

    Every public call holds one slot for its whole sequence of HTTP requests (a start is
    two, an action is two), so a half-done sequence never queues again. ``wait``
    overrides ``queue_seconds`` for one call; a call that gets no slot raises
    :class:`RasaBusy`.
    """

    def __init__(
        self,
        base_url: str | Sequence[str],
        token: str | None,
        timeout_seconds: float = 30.0,
        max_in_flight: int = 8,
        queue_seconds: float = 10.0,
        probe_seconds: float | None = None,
    ) -> None:
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        self.pool = RasaPool(
            urls, self._ready, *(() if probe_seconds is None else (probe_seconds,))
        )
        self.base_url = self.pool.servers[0].url
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.queue_seconds = queue_seconds
        self.slots = Slots(max_in_flight)
        self._session: aiohttp.ClientSession | None = None

    @asynccontextmanager
    async def _slot(self, wait: float | None) -> AsyncIterator[_Route]:
        wait = self.queue_seconds if wait is None else wait
        if not await self.slots.acquire(wait):
            raise RasaBusy(f"Rasa is busy: no free slot of {self.slots.size} within {wait:g} s")
        try:
            yield _Route(self)
        finally:
            self.slots.release()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        """Stop the health probes and close the connection pool."""
        await self.pool.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self, conversation_id: str, text: str, wait: float | None = None
    ) -> list[dict[str, Any]]:
        """A customer message through the REST channel; returns the bot's replies."""
        async with self._slot(wait) as route:
            replies = await route.request(
                "POST",
                "/webhooks/rest/webhook",
                {"sender": conversation_id, "message": text},
                api=False,
            )
        if not isinstance(replies, list):
            raise RasaUnavailable("Rasa answered the message with something unexpected")
        return replies

    async def start(self, conversation_id: str, wait: float | None = None) -> list[dict[str, Any]]:
        """Open a conversation: run the session start and return its messages."""
        async with self._slot(wait) as route:
            path = f"/conversations/{conversation_id}/tracker/events"
            await route.request("POST", path, NEW_TRACKER_EVENTS)
            return await _execute(route, conversation_id, "action_session_start")

    async def execute(
        self, conversation_id: str, action: str, wait: float | None = None
    ) -> list[dict[str, Any]]:
        """Run ``action`` in the conversation through the HTTP API; its messages.

        Rasa's ``execute`` runs one action and predicts nothing after it, so the tracker
        would not be listening: the customer's next message would then follow an
        unfamiliar action sequence and the policies would fall back. An
        ``action_listen`` afterwards puts the conversation back where a message is due.
        """
        async with self._slot(wait) as route:
            messages = await _execute(route, conversation_id, action)
            if action != "action_listen":
                try:
                    await _execute(route, conversation_id, "action_listen")
                except RasaUnavailable as problem:
                    # The action ran and its messages count; the next message still
                    # works, if less predictably, so this is not worth losing them for.
                    logger.warning(
                        "action_listen after %s failed in %s: %s", action, conversation_id, problem
                    )
            return messages

    async def intent(self, text: str, wait: float | None = None) -> str | None:
        """The intent Rasa's NLU gives ``text`` (no tracker is touched); None if unsure."""
        async with self._slot(wait) as route:
            body = await route.request("POST", "/model/parse", {"text": text})
        intent = body.get("intent") if isinstance(body, dict) else None
        name = intent.get("name") if isinstance(intent, dict) else None
        return name if isinstance(name, str) else None

    async def tracker_events(
        self, conversation_id: str, wait: float | None = None
    ) -> list[dict[str, Any]]:
        """The events of the conversation's tracker as Rasa stored them."""
        async with self._slot(wait) as route:
            body = await route.request("GET", f"/conversations/{conversation_id}/tracker")
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list):
            raise RasaUnavailable("Rasa answered the tracker request with something unexpected")
        return [event for event in events if isinstance(event, dict)]

    async def _ready(self, url: str) -> bool:
        """The health probe: Rasa's ``/status`` answers once its model is loaded."""
        params = {"token": self.token} if self.token else None
        timeout = aiohttp.ClientTimeout(total=2.0)
        try:
            async with self._http().get(url + "/status", params=params, timeout=timeout) as reply:
                return reply.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False

    async def _request(
        self, server: RasaServer, method: str, path: str, payload: Any = None, api: bool = True
    ) -> Any:
        params = {"token": self.token} if api and self.token else None
        url = server.url + path
        server.in_flight += 1
        try:
            async with self._http().request(method, url, json=payload, params=params) as response:
                if response.status >= 400:
                    detail = (await response.text())[:300]
                    raise RasaUnavailable(
                        f"Rasa answered {response.status} to {path}: {detail}", response.status
                    )
                return await response.json(content_type=None)
        except RasaUnavailable:
            raise
        except aiohttp.ClientConnectorError as error:
            self.pool.mark_down(server, error)
            raise RasaRefused(f"Rasa is unreachable at {server.url}: {error!r}") from None
        except aiohttp.ServerDisconnectedError as error:
            # Stopped while answering: it may have stored the turn, so no retry here.
            self.pool.mark_down(server, error)
            raise RasaUnavailable(f"Rasa at {server.url} hung up: {error!r}") from None
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise RasaUnavailable(f"Rasa is unreachable at {server.url}: {error!r}") from None
        finally:
            server.in_flight -= 1


class _Route:
    """The server of one call: chosen at its first request, which goes to the next
    server when refused (nothing was seen); later requests of the call stay there."""

    def __init__(self, client: RasaClient) -> None:
        self.client = client
        self.server: RasaServer | None = None

    async def request(self, method: str, path: str, payload: Any = None, api: bool = True) -> Any:
        """One HTTP request of this call (see :class:`_Route`)."""
        if self.server is not None:
            return await self.client._request(self.server, method, path, payload, api)
        tried: set[RasaServer] = set()
        while True:
            server = self.client.pool.pick(exclude=tried)
            try:
                result = await self.client._request(server, method, path, payload, api)
            except RasaRefused:
                tried.add(server)
                if len(tried) >= len(self.client.pool.servers):
                    raise
                continue
            self.server = server
            return result


async def _execute(route: _Route, conversation_id: str, action: str) -> list[dict[str, Any]]:
    body = await route.request(
        "POST", f"/conversations/{conversation_id}/execute", {"name": action}
    )
    messages = body.get("messages") if isinstance(body, dict) else None
    return messages if isinstance(messages, list) else []
