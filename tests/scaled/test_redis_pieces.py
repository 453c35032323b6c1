"""The Redis event bus and the shared rate limits against a real Redis, in process."""

from __future__ import annotations

import asyncio

import pytest
from conftest import restart_redis

from handoff.events import BUS_RESYNC, Event
from handoff.ratelimit import LocalLimiter
from handoff.redis_bus import RedisEventBus, RedisUnavailable, connect
from handoff.redis_limits import RedisLimiter
from tools.stack.local_services import RedisService
from tools.stack.runner import free_port

pytestmark = pytest.mark.integration


def url_of(redis: RedisService) -> str:
    return f"redis://127.0.0.1:{redis.port}/0"


async def next_event(sub, timeout: float = 5.0) -> Event:
    return await asyncio.wait_for(sub.get(), timeout)


async def test_two_buses_see_each_others_events_and_local_ones_stay_local(redis):
    first, second = RedisEventBus(url_of(redis)), RedisEventBus(url_of(redis))
    await first.start()
    await second.start()
    try:
        everything = second.subscribe()
        one_chat = second.subscribe(conversation_id="c1")
        here_only = first.subscribe(local_only=True)
        there_only = second.subscribe(local_only=True)
        events = [Event("message.created", {"id": n}, "c1") for n in (1, 2)]
        events.append(Event("queue.changed", {"queue": []}))
        await first.publish(events)
        assert [await next_event(everything) for _ in range(3)] == events  # in order
        assert [await next_event(one_chat) for _ in range(2)] == events[:2]
        assert [await next_event(here_only) for _ in range(3)] == events
        await asyncio.sleep(0.2)
        assert there_only.queue.empty(), "the other worker's reactions are its own"
    finally:
        await first.close()
        await second.close()


async def test_redis_down_at_start_names_redis_url():
    bus = RedisEventBus(f"redis://:secret@127.0.0.1:{free_port()}/0")
    with pytest.raises(RedisUnavailable, match="REDIS_URL") as raised:
        await bus.start()
    assert "secret" not in str(raised.value)
    await bus.close()


async def test_after_losing_redis_every_subscriber_is_told_to_resync(redis):
    bus = RedisEventBus(url_of(redis), reconnect_seconds=0.1)
    await bus.start()
    try:
        sub = bus.subscribe(conversation_id="c9")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, restart_redis, redis, 0.5)
        assert (await next_event(sub, 15)).name == BUS_RESYNC
        assert bus.reconnects == 1
        await bus.publish([Event("message.created", {"id": 7}, "c9")])
        assert (await next_event(sub)).data == {"id": 7}  # live again
    finally:
        await bus.close()


async def test_the_shared_limit_answers_like_the_local_one(redis):
    client = connect(url_of(redis))
    shared = RedisLimiter(client, f"t{free_port()}", 3, 60)
    local = LocalLimiter(3, 60)
    try:
        for limiter in (shared, local):
            assert [await limiter.hit("k") for _ in range(3)] == [None, None, None]
            wait = await limiter.hit("k")
            assert wait is not None and 59 <= wait <= 60
            assert await limiter.retry_after("k") == wait
            assert await limiter.count("k") == 3
            assert await limiter.hit("other") is None  # keys are independent
            await limiter.reset("k")
            assert await limiter.hit("k") is None
    finally:
        await client.close()


async def test_a_shared_limit_still_limits_while_redis_is_unreachable():
    client = connect(f"redis://127.0.0.1:{free_port()}/0")
    limiter = RedisLimiter(client, "down", 2, 60)
    try:
        assert [await limiter.hit("k") for _ in range(3)][:2] == [None, None]
        assert await limiter.hit("k") is not None  # counted in this worker meanwhile
    finally:
        await client.close()


async def test_a_widget_counts_on_every_worker_until_closed_or_its_worker_stops_refreshing(redis):
    from bot.widgets import ConnectedWidgets

    client_a, client_b = connect(url_of(redis)), connect(url_of(redis))
    a = ConnectedWidgets(client_a, ttl_seconds=1.5)
    b = ConnectedWidgets(client_b, ttl_seconds=1.5)
    keeping = asyncio.ensure_future(a.keep_alive())
    try:
        await a.opened("chat-1")
        await a.opened("chat-1")  # a second tab on the same worker
        assert await b.anywhere("chat-1") and a.here("chat-1") == 2 and b.here("chat-1") == 0
        await asyncio.sleep(2.5)  # longer than the lifetime: A's refreshes keep it
        assert await b.anywhere("chat-1")
        await a.closed("chat-1")
        assert await b.anywhere("chat-1")  # one tab is still open
        await a.closed("chat-1")
        assert not await b.anywhere("chat-1") and a.here("chat-1") == 0
        # A worker that dies with a socket open (no refresh, no close) stops counting.
        await a.opened("chat-2")
        keeping.cancel()
        assert await b.anywhere("chat-2")
        await asyncio.sleep(2.0)
        assert not await b.anywhere("chat-2")
    finally:
        keeping.cancel()
        await asyncio.gather(keeping, return_exceptions=True)
        await client_a.close(close_connection_pool=True)
        await client_b.close(close_connection_pool=True)


async def test_with_redis_gone_a_worker_answers_from_its_own_sockets(redis):
    from bot.widgets import ConnectedWidgets

    gone = ConnectedWidgets(connect(f"redis://127.0.0.1:{free_port()}/0"))
    await gone.opened("chat-3")  # logged, not raised: the socket is served
    assert await gone.anywhere("chat-3")
    await gone.closed("chat-3")
    assert not await gone.anywhere("chat-3")
