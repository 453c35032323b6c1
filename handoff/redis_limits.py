"""Rate limits shared by several web workers in Redis (``REDIS_URL``).

The same sliding window as :class:`handoff.ratelimit.RateLimiter` (same limits, same
``Retry-After``), kept in a Redis sorted set per key and updated by one Lua script, so
a check and its hit are atomic across workers. Redis's own clock is used, so workers on
several machines agree. While Redis is unreachable each worker falls back to its own
in-memory window (logged once): limits stay enforced per worker and no request fails
because of the outage.
"""

from __future__ import annotations

import logging
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from .ratelimit import Limiter, LocalLimiter

logger = logging.getLogger(__name__)

PREFIX = "larkspur:rate:"

# KEYS: the window's sorted set, its sequence counter. ARGV: limit, window (ms), record?
# Returns {hits in the window, seconds to wait (0: allowed)}.
WINDOW_SCRIPT = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local wait = math.ceil((tonumber(oldest[2]) + window - now) / 1000)
  if wait < 1 then wait = 1 end
  return {n, wait}
end
if ARGV[3] == '1' then
  local seq = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[1], now, tostring(now) .. ':' .. tostring(seq))
  redis.call('PEXPIRE', KEYS[1], window)
  redis.call('PEXPIRE', KEYS[2], window)
  n = n + 1
end
return {n, 0}
"""


class RedisLimiter:
    """At most ``limit`` hits per ``window_seconds`` for each key, across workers."""

    def __init__(
        self, client: aioredis.Redis, name: str, limit: int, window_seconds: float = 60.0
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("limit must be >= 1 and window_seconds > 0")
        self.limit = limit
        self.window_ms = int(window_seconds * 1000)
        self.prefix = f"{PREFIX}{name}:"
        self._redis = client
        self._script = client.register_script(WINDOW_SCRIPT)
        self._fallback = LocalLimiter(limit, window_seconds)
        self._lost = False

    async def hit(self, key: str) -> int | None:
        """Count one hit for ``key``; None if allowed, else seconds until allowed."""
        answer = await self._run(key, record=True)
        if answer is None:
            return await self._fallback.hit(key)
        return answer[1] or None

    async def retry_after(self, key: str) -> int | None:
        """Seconds until ``key`` may hit again (None if it may now); records nothing."""
        answer = await self._run(key, record=False)
        if answer is None:
            return await self._fallback.retry_after(key)
        return answer[1] or None

    async def count(self, key: str) -> int:
        """Hits of ``key`` within the window."""
        answer = await self._run(key, record=False)
        if answer is None:
            return await self._fallback.count(key)
        return answer[0]

    async def reset(self, key: str) -> None:
        """Forget ``key``'s hits."""
        await self._fallback.reset(key)
        try:
            await self._redis.delete(self.prefix + key, self.prefix + key + ":seq")
        except (RedisError, OSError) as problem:
            self._note_lost(problem)

    async def _run(self, key: str, record: bool) -> tuple[int, int] | None:
        keys = [self.prefix + key, self.prefix + key + ":seq"]
        try:
            result: Any = await self._script(
                keys=keys, args=[self.limit, self.window_ms, "1" if record else "0"]
            )
        except (RedisError, OSError) as problem:
            self._note_lost(problem)
            return None
        if self._lost:
            self._lost = False
            logger.warning("rate limits are shared in Redis again (%s)", self.prefix)
        return int(result[0]), int(result[1])

    def _note_lost(self, problem: BaseException) -> None:
        if not self._lost:
            self._lost = True
            logger.error(
                "rate limits %s: Redis unreachable (%s); counting in this worker until it is back",
                self.prefix,
                problem,
            )


def make_limiter(
    client: aioredis.Redis | None, name: str, limit: int, window_seconds: float
) -> Limiter:
    """A limit shared in Redis when a ``client`` is given, else one in this process."""
    if client is None:
        return LocalLimiter(limit, window_seconds)
    return RedisLimiter(client, name, limit, window_seconds)
