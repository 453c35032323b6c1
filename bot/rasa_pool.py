"""Several Rasa servers behind one client (``RASA_URLS``): spread, health-check, fail over.

Every Rasa server reads and writes the same tracker store (with the project's Redis lock
store, ``tools/locks``, so two never work on one conversation at once), so any of them can
take any message.
Each call goes to the healthy server with the fewest requests in flight. A server that
refuses connections (stopped, restarting) or drops one is marked down: calls skip it and
a probe asks its ``/status`` every ``probe_seconds`` until it answers, then it takes
calls again. A timeout alone does not mark a server down: a busy server is alive.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Sequence

logger = logging.getLogger(__name__)

PROBE_SECONDS = 1.0


@dataclass(eq=False)
class RasaServer:
    """One Rasa server's address and what this worker knows about it."""

    url: str
    healthy: bool = True
    in_flight: int = 0
    failures: int = 0  # times it was marked down (for logs and tests)
    probe: asyncio.Task[None] | None = field(default=None, repr=False)


class RasaPool:
    """Chooses a server for each call and watches the ones that failed.

    ``probe(url)`` answers True when the server at ``url`` is ready for messages.
    """

    def __init__(
        self,
        urls: Sequence[str],
        probe: Callable[[str], Awaitable[bool]],
        probe_seconds: float = PROBE_SECONDS,
    ) -> None:
        if not urls:
            raise ValueError("at least one Rasa URL is needed")
        self.servers = [RasaServer(url.rstrip("/")) for url in urls]
        self._probe = probe
        self.probe_seconds = probe_seconds
        self._turn = itertools.count()

    def pick(self, exclude: set[RasaServer] | frozenset[RasaServer] = frozenset()) -> RasaServer:
        """The healthy server with the fewest calls in flight (ties taken in turn); if
        none is healthy, any not excluded (it may be back before its probe noticed)."""
        candidates = [s for s in self.servers if s not in exclude]
        healthy = [s for s in candidates if s.healthy] or candidates or self.servers
        start = next(self._turn) % len(healthy)
        rotated = healthy[start:] + healthy[:start]
        return min(rotated, key=lambda server: server.in_flight)

    def mark_down(self, server: RasaServer, problem: object) -> None:
        """Stop sending to ``server`` until its probe sees it ready again."""
        if not server.healthy:
            return
        server.healthy = False
        server.failures += 1
        others = sum(s.healthy for s in self.servers)
        logger.error(
            "Rasa at %s failed (%s): sending to the %d other server(s) until it answers again",
            server.url,
            problem,
            others,
        )
        if server.probe is None or server.probe.done():
            server.probe = asyncio.ensure_future(self._watch(server))

    async def close(self) -> None:
        """Stop the probes."""
        probes = [s.probe for s in self.servers if s.probe is not None]
        for probe in probes:
            probe.cancel()
        await asyncio.gather(*probes, return_exceptions=True)

    async def _watch(self, server: RasaServer) -> None:
        while not server.healthy:
            await asyncio.sleep(self.probe_seconds)
            try:
                ready = await self._probe(server.url)
            except Exception:  # a probe that fails is a "not yet"
                ready = False
            if ready:
                server.healthy = True
                logger.warning("Rasa at %s answers again: sending to it", server.url)
