"""Keeps the stack's processes running: a process that stops is started again.

One process failing must not take the others down: with Rasa restarting, the web app
still serves queued customers, customers with an agent and the desk, and tells the
others honestly that the assistant is unavailable. So the supervisor restarts a process
that exits: at once the first time (customers wait for Rasa while it is down, and a
process that served for a while and then died is not a crash loop), then after a growing
pause (1, 2, 4 ... 30 s) if it keeps exiting; it says so on the console, and says when it
answers again. It stops everything only when asked (Ctrl-C, SIGTERM, or
:meth:`Supervisor.stop` from another thread) or when one process keeps failing
(``max_failures`` exits within ``window_s``): then with the end of its log.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

if TYPE_CHECKING:  # tools.stack.runner imports this module
    from tools.stack.runner import Service

BACKOFF_S = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0)


@dataclass
class _Watch:
    """What the supervisor knows about one process."""

    failures: list[float] = field(default_factory=list)  # monotonic times of its exits
    restart_at: float | None = None  # due restart
    restarted_at: float | None = None  # restarted, not answering yet


class Supervisor:
    """Runs until stopped or until a process keeps failing; see the module docstring.

    Args:
        services: started and healthy already.
        envs: each service's environment by name, for the restarts.
        say: where the console messages go (``print`` by default).
    """

    def __init__(
        self,
        services: Sequence[Service],
        envs: dict[str, dict[str, str]],
        *,
        backoff_s: Sequence[float] = BACKOFF_S,
        max_failures: int = 5,
        window_s: float = 300.0,
        poll_s: float = 0.25,
        say: Callable[[str], None] = lambda text: print(text, flush=True),
    ) -> None:
        self.services = list(services)
        self.envs = envs
        self.backoff_s = tuple(backoff_s)
        self.max_failures = max_failures
        self.window_s = window_s
        self.poll_s = poll_s
        self.say = say
        self.restarts: dict[str, int] = {service.name: 0 for service in self.services}
        self._watch = {service.name: _Watch() for service in self.services}
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ask :meth:`run` to return (from another thread)."""
        self._stop.set()

    def run(self) -> int:
        """Watch until stopped (0) or until a process keeps failing (1). Stopping the
        processes themselves is the caller's job, in its ``finally``."""
        while not self._stop.is_set():
            for service in self.services:
                if not self._check(service, time.monotonic()):
                    return 1
            self._stop.wait(self.poll_s)
        return 0

    def _check(self, service: Service, now: float) -> bool:
        watch = self._watch[service.name]
        if watch.restart_at is not None:
            if now >= watch.restart_at:
                watch.restart_at, watch.restarted_at = None, now
                self.restarts[service.name] += 1
                self.say(f"Restarting the {service.name} ...")
                service.start(self.envs[service.name])
            return True
        code = service.exit_code()
        if code is None:
            if watch.restarted_at is not None and service.healthy():
                self.say(
                    f"The {service.name} is up again "
                    f"({now - watch.restarted_at:.1f} s after its restart)."
                )
                watch.restarted_at = None
            return True
        watch.failures = [t for t in watch.failures if now - t < self.window_s] + [now]
        count = len(watch.failures)
        if count >= self.max_failures:
            self.say(
                f"The {service.name} keeps failing ({count} exits within "
                f"{self.window_s:.0f} s, the last with exit code {code}): stopping "
                f"everything. Last lines of {service.log_path}:\n{service.log_tail()}"
            )
            return False
        delay = self.backoff_s[min(count, len(self.backoff_s)) - 1]
        when = f"in {delay:g} s" if delay > 0 else "now"
        self.say(
            f"The {service.name} stopped (exit code {code}); restarting it {when} "
            f"(exit {count} of at most {self.max_failures - 1} within "
            f"{self.window_s:.0f} s). Last lines of {service.log_path}:\n"
            f"{service.log_tail(5)}"
        )
        watch.restart_at, watch.restarted_at = now + delay, None
        return True
