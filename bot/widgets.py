"""Which chats have a customer's widget connected, on this worker and on any.

The customer websocket (``bot/ws.py``) counts its sockets here: the count on this worker
caps sockets per chat, and "connected anywhere" decides whether an agent's reply must
go by e-mail (``bot/continuation.py``). With Redis (``REDIS_URL``, several web workers)
each worker also keeps a key per chat it serves, ``larkspur:widget:<chat>:<worker>``,
that expires unless refreshed (:meth:`ConnectedWidgets.keep_alive`), so a worker that
crashed stops counting after ``ttl_seconds``; a set per chat names the workers to look
at. Without Redis only this worker's count exists. Redis unreachable: this worker's
count alone is used (logged once), so a reply is mailed rather than lost.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from redis import asyncio as aioredis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

PREFIX = "larkspur:widget:"
TTL_SECONDS = 30.0  # a crashed worker's widgets count this long at most


class ConnectedWidgets:
    """Open widget sockets per conversation: here (``here``) and anywhere (``anywhere``)."""

    def __init__(
        self,
        redis: aioredis.Redis | None = None,
        *,
        ttl_seconds: float = TTL_SECONDS,
        worker: str | None = None,
    ) -> None:
        self.redis = redis
        self.ttl_seconds = ttl_seconds
        self.worker = worker or uuid.uuid4().hex
        self._here: dict[str, int] = {}
        self._lost = False

    def here(self, conversation_id: str) -> int:
        """Sockets of this chat open on this worker."""
        return self._here.get(conversation_id, 0)

    async def opened(self, conversation_id: str) -> None:
        """A widget socket of this chat opened on this worker."""
        self._here[conversation_id] = self.here(conversation_id) + 1
        if self._here[conversation_id] == 1:
            await self._mark([conversation_id])

    async def closed(self, conversation_id: str) -> None:
        """A widget socket of this chat closed on this worker."""
        left = self.here(conversation_id) - 1
        if left > 0:
            self._here[conversation_id] = left
            return
        self._here.pop(conversation_id, None)
        if self.redis is None:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.delete(self._key(conversation_id))
                pipe.srem(PREFIX + conversation_id, self.worker)
                await pipe.execute()
        except (RedisError, OSError) as problem:
            self._note_lost(problem)  # the key expires on its own

    async def anywhere(self, conversation_id: str) -> bool:
        """True while a widget of this chat is connected to any worker."""
        if self.here(conversation_id) > 0 or self.redis is None:
            return self.here(conversation_id) > 0
        try:
            workers = await self.redis.smembers(PREFIX + conversation_id)
            if not workers:
                return False
            keys = [self._key(conversation_id, w.decode()) for w in workers]
            return int(await self.redis.exists(*keys)) > 0
        except (RedisError, OSError) as problem:
            self._note_lost(problem)
            return False

    async def keep_alive(self) -> None:
        """Refresh this worker's keys every third of their lifetime (a background task)."""
        if self.redis is None:
            return
        while True:
            await asyncio.sleep(self.ttl_seconds / 3)
            await self._mark(list(self._here))

    async def _mark(self, conversation_ids: list[str]) -> None:
        if self.redis is None or not conversation_ids:
            return
        ttl = max(1, int(self.ttl_seconds))
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for cid in conversation_ids:
                    pipe.set(self._key(cid), 1, ex=ttl)
                    pipe.sadd(PREFIX + cid, self.worker)
                    pipe.expire(PREFIX + cid, ttl)
                await pipe.execute()
            if self._lost:
                self._lost = False
                logger.warning("Redis is back: connected widgets are shared again")
        except (RedisError, OSError) as problem:
            self._note_lost(problem)

    def _key(self, conversation_id: str, worker: str | None = None) -> str:
        return f"{PREFIX}{conversation_id}:{worker or self.worker}"

    def _note_lost(self, problem: BaseException) -> None:
        if not self._lost:
            self._lost = True
            logger.error(
                "Redis unreachable (%s): whether a customer is connected to another "
                "worker is unknown; this worker's own sockets decide meanwhile",
                problem,
            )
