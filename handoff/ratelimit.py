"""A sliding-window rate limiter kept in memory (one web worker; see handoff/README).

The customer API (bot/) limits messages with it, the desk limits failed sign-ins,
both through the asynchronous :class:`Limiter` interface: :class:`LocalLimiter` here,
or ``handoff.redis_limits.RedisLimiter`` when several workers share limits in Redis."""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Callable, Protocol


class RateLimiter:
    """At most ``limit`` hits per ``window_seconds`` for each key.

    ``hit(key)`` records a hit and returns None, or, when the key is over its limit,
    records nothing and returns how many seconds to wait (for ``Retry-After``).
    """

    def __init__(
        self,
        limit: int,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("limit must be >= 1 and window_seconds > 0")
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._max_keys = max_keys

    def hit(self, key: str) -> int | None:
        """Count one hit for ``key``; None if allowed, else seconds until allowed."""
        now = self._clock()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self._max_keys:
                self._forget_idle(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, math.ceil(hits[0] + self.window - now))
        hits.append(now)
        return None

    def retry_after(self, key: str) -> int | None:
        """Seconds until ``key`` may hit again (None if it may now); records nothing."""
        now = self._clock()
        hits = self._hits.get(key)
        if not hits:
            return None
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, math.ceil(hits[0] + self.window - now))
        return None

    def count(self, key: str) -> int:
        """Hits of ``key`` within the window (as of the last hit or check)."""
        return len(self._hits.get(key, ()))

    def reset(self, key: str) -> None:
        """Forget ``key``'s hits (a correct sign-in clears its failures)."""
        self._hits.pop(key, None)

    def _forget_idle(self, now: float) -> None:
        # Keeps memory bounded under a flood of new keys.
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window]:
            del self._hits[key]


class Limiter(Protocol):
    """What the API guards need from a limit: the same answers as :class:`RateLimiter`,
    awaited (a shared limit asks Redis)."""

    limit: int

    async def hit(self, key: str) -> int | None:
        """Count one hit; None if allowed, else seconds until allowed."""

    async def retry_after(self, key: str) -> int | None:
        """Seconds until ``key`` may hit again (None if it may now); records nothing."""

    async def count(self, key: str) -> int:
        """Hits of ``key`` within the window."""

    async def reset(self, key: str) -> None:
        """Forget ``key``'s hits."""


class LocalLimiter:
    """A :class:`RateLimiter` in this process behind the :class:`Limiter` interface."""

    def __init__(self, limit: int, window_seconds: float = 60.0, **options: object) -> None:
        self.local = RateLimiter(limit, window_seconds, **options)  # type: ignore[arg-type]
        self.limit = limit

    async def hit(self, key: str) -> int | None:
        """See :meth:`RateLimiter.hit`."""
        return self.local.hit(key)

    async def retry_after(self, key: str) -> int | None:
        """See :meth:`RateLimiter.retry_after`."""
        return self.local.retry_after(key)

    async def count(self, key: str) -> int:
        """See :meth:`RateLimiter.count`."""
        return self.local.count(key)

    async def reset(self, key: str) -> None:
        """See :meth:`RateLimiter.reset`."""
        self.local.reset(key)
