"""A customer who leaves mid-answer, and a Rasa with more work than it can take."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from bot_support import online_agent, wait_for

pytestmark = pytest.mark.asyncio


async def stored(live: Any, cid: str) -> list[tuple[str, str]]:
    return [(m.author, m.text) for m in await live.service.messages_since(cid, 0)]


async def give_up_sending(live: Any, cid: str, token: str, text: str, after: float) -> None:
    """POST a message but close the connection after ``after`` seconds (tab closed)."""
    assert live.http is not None
    with pytest.raises(asyncio.TimeoutError):
        async with live.http.post(
            f"{live.url}/api/conversations/{cid}/messages",
            json={"text": text},
            headers={"Authorization": f"Bearer {token}"},
            timeout=aiohttp.ClientTimeout(total=after),
        ) as response:
            await response.read()


async def chats(live: Any, count: int) -> list[tuple[str, str]]:
    started = [await live.start_chat() for _ in range(count)]
    return [(cid, token) for cid, token, _ in started]


# --- the client goes away mid-request ---------------------------------------------------
async def test_customer_leaving_mid_answer_loses_neither_message_nor_reply(live, fake_rasa):
    cid, token, _ = await live.start_chat()
    ws_url = f"{live.url.replace('http', 'ws')}/api/conversations/{cid}/ws"
    async with live.http.ws_connect(ws_url) as ws:
        await ws.send_json({"type": "hello", "token": token, "after": 10**9})
        assert (await ws.receive_json(timeout=20))["type"] == "ready"
        fake_rasa.delay = 1.0
        await give_up_sending(live, cid, token, "where is my parcel?", after=0.3)
        # Rasa answers after the client left: the answer is still stored and pushed.
        frames = []
        while not any(f["type"] == "message" and f["message"]["author"] == "bot" for f in frames):
            frames.append(await ws.receive_json(timeout=20))
    pushed = [f["message"]["text"] for f in frames if f["type"] == "message"]
    assert pushed == ["where is my parcel?", "Bot answer to: where is my parcel?"]
    assert (await stored(live, cid))[1:] == [
        ("customer", "where is my parcel?"),
        ("bot", "Bot answer to: where is my parcel?"),
    ]
    status, body, _ = await live.call("GET", f"/api/conversations/{cid}/messages", token)
    assert [m["author"] for m in body["messages"]] == ["bot", "customer", "bot"]


async def test_shutdown_waits_for_an_answer_in_progress(live, fake_rasa):
    cid, token, _ = await live.start_chat()
    fake_rasa.delay = 1.0
    await give_up_sending(live, cid, token, "still there?", after=0.2)
    await live.stop()  # while Rasa is still answering
    history = await stored(live, cid)
    assert history[-2:] == [("customer", "still there?"), ("bot", "Bot answer to: still there?")]
    assert not live.app.ctx.gateway.pending


# --- admission control in front of Rasa -------------------------------------------------
async def test_rasa_never_gets_more_than_max_in_flight_and_everyone_is_answered(
    make_live, fake_rasa
):
    live = await make_live(bot_overrides={"rasa_max_in_flight": 2, "rasa_queue_seconds": 30.0})
    pairs = await chats(live, 6)
    fake_rasa.delay, fake_rasa.max_in_flight = 0.3, 0
    results = await asyncio.gather(
        *(live.say(cid, token, f"question {n}") for n, (cid, token) in enumerate(pairs))
    )
    assert fake_rasa.max_in_flight == 2
    for n, (status, body, _) in enumerate(results):
        assert status == 201 and body["assistant_busy"] is False
        assert [r["text"] for r in body["replies"]] == [f"Bot answer to: question {n}"]


async def test_overflow_is_told_the_assistant_is_busy_and_rasa_never_sees_it(make_live, fake_rasa):
    live = await make_live(bot_overrides={"rasa_max_in_flight": 2, "rasa_queue_seconds": 0.05})
    pairs = await chats(live, 6)
    fake_rasa.delay, fake_rasa.max_in_flight = 1.0, 0
    texts = [f"question {n}" for n in range(6)]
    results = await asyncio.gather(
        *(live.say(cid, token, text) for text, (cid, token) in zip(texts, pairs))
    )
    assert fake_rasa.max_in_flight == 2
    busy = [text for text, (_, body, _) in zip(texts, results) if body["assistant_busy"]]
    assert len(busy) == 4
    for text, (cid, _), (status, body, _) in zip(texts, pairs, results):
        assert status == 201
        assert (await stored(live, cid))[1] == ("customer", text)  # always kept
        if text in busy:
            assert body["assistant_unavailable"] is True
            [notice] = body["replies"]
            assert (notice["author"], notice["text"]) == (
                "system",
                live.service.wording.say("busy"),
            )
            assert [b["action"] for b in notice["buttons"]] == ["handoff", "contact"]
    assert sorted(fake_rasa.webhook_texts()) == sorted(set(texts) - set(busy))


async def test_talk_to_a_person_is_never_refused_under_load(make_live, fake_rasa):
    live = await make_live(bot_overrides={"rasa_max_in_flight": 1, "rasa_queue_seconds": 30.0})
    live.app.ctx.gateway.handoff_slot_seconds = 0.2
    await online_agent(live.service)
    (busy_cid, busy_token), (cid, token) = await chats(live, 2)
    await live.say(cid, token, "where is my parcel?")
    fake_rasa.delay = 1.5
    occupying = asyncio.ensure_future(live.say(busy_cid, busy_token, "a slow question"))
    await wait_for(lambda: _true(fake_rasa.in_flight == 1))
    status, body, _ = await live.call("POST", f"/api/conversations/{cid}/handoff", token)
    assert status == 200 and body["handoff"]["outcome"] == "queued"
    assert "action_handoff" not in fake_rasa.executed()  # no slot: the fallback context
    detail = await live.service.conversation_detail(cid)
    assert detail.conversation.state == "queued"
    assert "Talk to a person" in detail.handoff.context["summary"]
    assert "where is my parcel?" in [message.text for message in detail.messages]
    status, body, _ = await occupying
    assert body["replies"][0]["text"] == "Bot answer to: a slow question"


async def test_a_chat_started_while_rasa_is_full_says_so(make_live, fake_rasa):
    live = await make_live(bot_overrides={"rasa_max_in_flight": 1, "rasa_queue_seconds": 0.05})
    [(cid, token)] = await chats(live, 1)
    fake_rasa.delay = 1.0
    occupying = asyncio.ensure_future(live.say(cid, token, "a slow question"))
    await wait_for(lambda: _true(fake_rasa.in_flight == 1))
    calls = len(fake_rasa.calls)
    new_cid, _, body = await live.start_chat()
    assert body["assistant_busy"] is True and body["assistant_unavailable"] is True
    [first] = body["messages"]
    assert (first["author"], first["text"]) == ("system", live.service.wording.say("busy_at_start"))
    assert [b["action"] for b in first["buttons"]] == ["handoff", "contact"]
    assert len(fake_rasa.calls) == calls  # Rasa saw nothing of the new chat
    await occupying


async def _true(value: bool) -> bool:
    return value


async def test_a_sequence_of_calls_holds_one_slot_throughout(fake_rasa):
    from bot_support import RASA_TOKEN

    from bot.rasa_client import RasaClient

    rasa = RasaClient(fake_rasa.url, RASA_TOKEN, 5.0, max_in_flight=1, queue_seconds=10.0)
    fake_rasa.delay = 0.1
    try:
        handoff = asyncio.ensure_future(rasa.execute("c1", "action_handoff"))
        await wait_for(lambda: _true(bool(fake_rasa.calls)))
        await asyncio.gather(handoff, rasa.send("c2", "hello"), rasa.start("c3"))
    finally:
        await rasa.close()
    order = [(kind, cid) for kind, cid, _ in fake_rasa.calls]
    # Each sequence runs whole: nobody slips in between an action and its action_listen.
    assert order == [
        ("execute", "c1"),
        ("execute", "c1"),
        ("webhook", "c2"),
        ("events", "c3"),
        ("execute", "c3"),
    ]
    assert fake_rasa.max_in_flight == 1


# --- the slot queue itself ----------------------------------------------------------------
async def test_slots_are_handed_over_first_come_first_served():
    from bot.rasa_client import Slots

    slots = Slots(1)
    assert await slots.acquire(0)
    order: list[int] = []

    async def take(n: int) -> None:
        assert await slots.acquire(5)
        order.append(n)
        await asyncio.sleep(0.01)
        slots.release()

    waiting = [asyncio.ensure_future(take(n)) for n in range(3)]
    await asyncio.sleep(0.01)
    slots.release()
    # A newcomer does not overtake the queue, even when a slot was just released.
    assert not await slots.acquire(0)
    await asyncio.gather(*waiting)
    assert order == [0, 1, 2] and slots.in_use == 0


async def test_giving_up_or_being_cancelled_never_leaks_a_slot():
    from bot.rasa_client import Slots

    slots = Slots(1)
    assert await slots.acquire(0)
    assert not await slots.acquire(0.02)  # timed out: nothing held
    waiter = asyncio.ensure_future(slots.acquire(5))
    await asyncio.sleep(0.01)
    slots.release()  # handed to the waiter...
    waiter.cancel()  # ...which is cancelled before it could run: the slot comes back
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert slots.in_use == 0
    assert await slots.acquire(0)


async def test_the_wait_for_rasa_counts_from_arrival_not_from_the_turn(make_live, fake_rasa):
    # A customer's second message first waits behind their first (the conversation's
    # lock); that time comes off what it may still wait for a Rasa slot.
    live = await make_live(bot_overrides={"rasa_queue_seconds": 10.0})
    rasa = live.app.ctx.gateway.rasa
    waits: list[float] = []
    original = rasa.send

    async def recording_send(conversation_id: str, text: str, wait: Any = None) -> Any:
        waits.append(wait)
        return await original(conversation_id, text, wait=wait)

    rasa.send = recording_send
    cid, token, _ = await live.start_chat()
    fake_rasa.delay = 0.5
    results = await asyncio.gather(live.say(cid, token, "first"), live.say(cid, token, "second"))
    assert [status for status, _, _ in results] == [201, 201]
    assert waits[0] > 9.5 and waits[1] <= 9.5  # the second spent >= 0.5 s behind the first
