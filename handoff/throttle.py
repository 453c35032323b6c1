"""Sign-in throttle: failed desk logins slow down, then are refused for a while.

Failures count per login name and per client address in a sliding window. Past half
the limit each further failure is answered only after a pause; at the limit every
attempt (even with the right password) gets 429 + ``Retry-After`` until the window
frees up. Unknown names count exactly like wrong passwords, so neither the answer nor
its timing tells whether a name exists.
"""

from __future__ import annotations

from .ratelimit import Limiter

MAX_LOGIN_KEY_CHARS = 64  # longer names cannot exist (models.agents.login)


def login_key(login: object) -> str:
    """The name a failure is counted under (as the service looks agents up)."""
    return str(login).strip().lower()[:MAX_LOGIN_KEY_CHARS] if isinstance(login, str) else ""


class LoginThrottle:
    """Counts failed sign-ins per login name and per address (in this process, or
    in Redis with several workers: the limiters say where)."""

    def __init__(self, logins: Limiter, addresses: Limiter, slowdown_seconds: float) -> None:
        self._logins = logins
        self._addresses = addresses
        self.slowdown_seconds = slowdown_seconds

    async def retry_after(self, login: str, address: str) -> int | None:
        """Seconds to wait when this name or this address is refused, else None."""
        waits = [
            await self._logins.retry_after("login:" + login),
            await self._addresses.retry_after("address:" + address),
        ]
        refused = [w for w in waits if w is not None]
        return max(refused) if refused else None

    async def failed(self, login: str, address: str) -> float:
        """Count a failure; the pause (seconds) to take before answering it."""
        await self._logins.hit("login:" + login)
        await self._addresses.hit("address:" + address)
        over_half = (
            await self._logins.count("login:" + login) * 2 > self._logins.limit
            or await self._addresses.count("address:" + address) * 2 > self._addresses.limit
        )
        return self.slowdown_seconds if over_half else 0.0

    async def succeeded(self, login: str) -> None:
        """A correct sign-in clears the name's failures (not the address's)."""
        await self._logins.reset("login:" + login)
