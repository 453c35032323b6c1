"""The event bus over Redis pub/sub: several web workers push each other's events.

Every worker publishes its committed events to one Redis channel and delivers what it
reads from that channel to its own subscribers (its websockets), its own events
included, so all workers see one order. Redis only carries notifications: the database
stays the source of truth. When a worker loses Redis it logs the outage once and
reconnects, while requests go on being stored and acknowledged; once back it tells every
subscriber to resync (``BUS_RESYNC``): the sockets close and their clients catch up by
message id from the database. Meanwhile nothing is pushed, not even this worker's own
events: a client that got a later message live would ask only for what came after it
and skip the earlier ones it missed from other workers.

Subscriptions made with ``local_only=True`` (the bot's reactor, which must store "X
joined" once, not once per worker) get this worker's events directly at publish time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any, Iterable
from urllib.parse import urlsplit, urlunsplit

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from .events import Event, InProcessEventBus, Subscription

logger = logging.getLogger(__name__)

CHANNEL = "larkspur:events"
RECONNECT_SECONDS = 1.0
CONNECT_TIMEOUT_SECONDS = 3.0


class RedisUnavailable(RuntimeError):
    """Redis could not be reached at start-up (the message names ``REDIS_URL``)."""


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def connect(url: str, listening: bool = False) -> aioredis.Redis:
    """A Redis client for ``url`` (no I/O until first used). ``listening``: for a
    subscription, which waits for messages as long as it takes (no read timeout; a
    Redis that stops closes the connection, and TCP keep-alive finds a dead peer)."""
    timeouts = {} if listening else {"socket_timeout": CONNECT_TIMEOUT_SECONDS}
    try:
        return aioredis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            socket_keepalive=True,
            **timeouts,
        )
    except ValueError as problem:
        raise RedisUnavailable(
            f"REDIS_URL={redacted(url)!r} is not a Redis URL: {problem}"
        ) from None


async def check_reachable(client: aioredis.Redis, url: str) -> None:
    """Raise :class:`RedisUnavailable` naming ``REDIS_URL`` unless Redis answers a PING."""
    try:
        await client.ping()
    except (RedisError, OSError) as problem:
        raise RedisUnavailable(
            f"cannot reach Redis at REDIS_URL={redacted(url)!r} ({problem}): start Redis "
            "or unset REDIS_URL to run a single web worker without it"
        ) from None


def ensure_reachable(url: str) -> None:
    """Before serving: :class:`RedisUnavailable` naming ``REDIS_URL`` unless Redis
    answers (a command line shows that message instead of a server's traceback)."""

    async def ping() -> None:
        client = connect(url)
        try:
            await check_reachable(client, url)
        finally:
            await client.close(close_connection_pool=True)

    asyncio.run(ping())


def _encode(origin: str, events: list[Event]) -> str:
    return json.dumps(
        {
            "origin": origin,
            "events": [[e.name, e.data, e.conversation_id] for e in events],
        }
    )


def _decode(raw: Any) -> list[Event]:
    body = json.loads(raw)
    return [Event(name, data, cid) for name, data, cid in body["events"]]


class RedisEventBus:
    """:class:`handoff.events.EventBus` over Redis; ``await start()`` before use,
    ``await close()`` at shutdown."""

    def __init__(
        self,
        url: str,
        channel: str = CHANNEL,
        reconnect_seconds: float = RECONNECT_SECONDS,
    ) -> None:
        self.url = url
        self.channel = channel
        self.reconnect_seconds = reconnect_seconds
        self.origin = uuid.uuid4().hex
        self._redis = connect(url)
        self._listening = connect(url, listening=True)
        self._own = InProcessEventBus()  # local_only subscribers
        self._shared = InProcessEventBus()  # everything from the channel
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._lost = False
        #: Times the bus regained Redis after losing it (tests and logs read it).
        self.reconnects = 0

    @property
    def connected(self) -> bool:
        """True while this worker is subscribed to the channel."""
        return self._subscribed.is_set() and not self._lost

    async def start(self) -> None:
        """Check Redis answers (else :class:`RedisUnavailable`), then start listening."""
        await check_reachable(self._redis, self.url)
        self._listener = asyncio.ensure_future(self._listen())
        # Subscribed before the worker serves: nothing published from now on is missed.
        waiter = asyncio.ensure_future(self._subscribed.wait())
        done, _ = await asyncio.wait({waiter, self._listener}, timeout=CONNECT_TIMEOUT_SECONDS)
        if waiter not in done:
            waiter.cancel()
            await self.close()
            raise RedisUnavailable(
                f"could not subscribe to Redis at REDIS_URL={redacted(self.url)!r}"
            )

    async def close(self) -> None:
        """Stop listening and close the connections."""
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        await self._redis.close(close_connection_pool=True)
        await self._listening.close(close_connection_pool=True)

    def subscribe(
        self,
        conversation_id: str | None = None,
        names: Iterable[str] | None = None,
        local_only: bool = False,
    ) -> Subscription:
        """Start receiving events; ``local_only``: only this worker's, at publish time."""
        bus = self._own if local_only else self._shared
        return bus.subscribe(conversation_id, names)

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop receiving events; unknown subscriptions are ignored."""
        self._own.unsubscribe(subscription)
        self._shared.unsubscribe(subscription)

    async def publish(self, events: Iterable[Event]) -> None:
        """Deliver committed events: to local-only subscribers now, to every worker's
        subscribers through Redis (with Redis lost, to nobody: they resync later)."""
        events = list(events)
        if not events:
            return
        await self._own.publish(events)
        payload = _encode(self.origin, events)
        for attempt in (1, 2):
            try:
                await self._redis.publish(self.channel, payload)
                return
            except (RedisError, OSError) as problem:
                # The first try after a Redis restart meets a closed pooled connection.
                if attempt == 2:
                    self._lost_while_publishing(problem)

    @property
    def subscriber_count(self) -> int:
        """How many subscriptions are live."""
        return self._own.subscriber_count + self._shared.subscriber_count

    def _lost_while_publishing(self, problem: BaseException) -> None:
        # Nobody heard these events. The listener may not have noticed anything (its
        # connection can outlive ours): start it again so that, once subscribed, it
        # tells every socket to resync from the database.
        if self._lost:
            return
        self._note_lost(problem)
        if self._listener is not None:
            self._listener.cancel()
            self._listener = asyncio.ensure_future(self._listen())

    def _note_lost(self, problem: BaseException) -> None:
        if not self._lost:
            self._lost = True
            logger.error(
                "lost Redis at %s (%s): serving from the database, reconnecting; "
                "live events pause until then (clients catch up then)",
                redacted(self.url),
                problem,
            )

    async def _listen(self) -> None:
        while True:
            pubsub = self._listening.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                if self._lost:
                    self._lost = False
                    self.reconnects += 1
                    logger.warning("Redis is back at %s: clients resync", redacted(self.url))
                    self._shared.resync()
                self._subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:
                        events = _decode(message["data"])
                    except (ValueError, KeyError, TypeError):
                        logger.warning("ignored a malformed message on %s", self.channel)
                        continue
                    await self._shared.publish(events)
                raise ConnectionError("the subscription ended")
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as problem:
                self._note_lost(problem)
                await asyncio.sleep(self.reconnect_seconds)
            finally:
                try:
                    await pubsub.reset()
                except (RedisError, OSError):
                    pass
