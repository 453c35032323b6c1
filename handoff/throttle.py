"""Sign-in throttle: failed desk logins slow down, then are refused for a while.

Failures count per login name and per client address in a sliding window. Past half
the limit each further failure is answered only after a pause; at the limit every
attempt (even with the right password) gets 429 + ``Retry-After`` until the window
frees up. Unknown names count exactly like wrong passwords, so neither the answer nor
its timing tells whether a name exists.
"""

from __future__ import annotations

import time
from typing import Callable

from .ratelimit import RateLimiter

MAX_LOGIN_KEY_CHARS = 64  # longer names cannot exist (models.agents.login)


def login_key(login: object) -> str:
    """The name a failure is counted under (as the service looks agents up)."""
    return str(login).strip().lower()[:MAX_LOGIN_KEY_CHARS] if isinstance(login, str) else ""


class LoginThrottle:
    """Counts failed sign-ins per login name and per address."""

    def __init__(
        self,
        per_login: int,
        per_address: int,
        window_seconds: float,
        slowdown_seconds: float,
        clock: Callable[[], float] | None = None,
    ) -> None:
        clock = clock or time.monotonic
        self._logins = RateLimiter(per_login, window_seconds, clock)
        self._addresses = RateLimiter(per_address, window_seconds, clock)
        self.slowdown_seconds = slowdown_seconds

    def retry_after(self, login: str, address: str) -> int | None:
        """Seconds to wait when this name or this address is refused, else None."""
        waits = [
            self._logins.retry_after("login:" + login),
            self._addresses.retry_after("address:" + address),
        ]
        refused = [w for w in waits if w is not None]
        return max(refused) if refused else None

    def failed(self, login: str, address: str) -> float:
        """Count a failure; the pause (seconds) to take before answering it."""
        self._logins.hit("login:" + login)
        self._addresses.hit("address:" + address)
        over_half = (
            self._logins.count("login:" + login) * 2 > self._logins.limit
            or self._addresses.count("address:" + address) * 2 > self._addresses.limit
        )
        return self.slowdown_seconds if over_half else 0.0

    def succeeded(self, login: str) -> None:
        """A correct sign-in clears the name's failures (not the address's)."""
        self._logins.reset("login:" + login)
