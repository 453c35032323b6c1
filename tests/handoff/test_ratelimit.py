"""handoff/ratelimit.py: a sliding-window limit that says how long to wait."""

from __future__ import annotations

from handoff.ratelimit import RateLimiter


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_rate_limiter_allows_the_limit_then_says_how_long_to_wait():
    clock = Clock()
    limiter = RateLimiter(2, 60, clock)
    assert limiter.hit("a") is None
    clock.now += 10
    assert limiter.hit("a") is None
    assert limiter.hit("a") == 50
    assert limiter.hit("b") is None  # keys are independent
    clock.now += 50
    assert limiter.hit("a") is None  # the first hit left the window


def test_refused_hits_do_not_extend_the_wait():
    clock = Clock()
    limiter = RateLimiter(1, 60, clock)
    limiter.hit("a")
    for _ in range(5):
        limiter.hit("a")
    clock.now += 60
    assert limiter.hit("a") is None
