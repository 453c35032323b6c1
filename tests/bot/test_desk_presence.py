"""Typing both ways and "seen", live over both sockets: throttled, never stored, only
between the customer and the agent who has the chat; presence of agents."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from bot_support import online_agent

from handoff.presence import Throttle, presence_of

pytestmark = pytest.mark.asyncio
PASSWORD = "correct horse battery"


async def desk_socket(live, login):
    status, body, _ = await live.call(
        "POST", "/api/agent/login", json={"login": login, "password": PASSWORD}
    )
    assert status == 200, body
    ws = await live.http.ws_connect(f"{live.url.replace('http', 'ws')}/api/agent/ws")
    await ws.send_json({"type": "hello", "token": body["token"]})
    assert (await ws.receive_json(timeout=20))["type"] == "ready"
    return ws, body["token"]


async def frames(ws, seconds=0.6):
    got = []
    try:
        while True:
            got.append(await ws.receive_json(timeout=seconds))
    except asyncio.TimeoutError:
        return got


async def test_typing_both_ways_and_seen_reach_only_the_other_side(live):
    alice = await online_agent(live.service, "alice", "Alice Moreno")
    await online_agent(live.service, "bob", "Bob Stone")
    cid, token, _ = await live.start_chat()
    await live.say(cid, token, "this is useless")  # the fake Rasa hands off
    await live.service.claim(cid, alice.id)
    customer = await live.http.ws_connect(
        f"{live.url.replace('http', 'ws')}/api/conversations/{cid}/ws"
    )
    await customer.send_json({"type": "hello", "token": token})
    assert (await customer.receive_json(timeout=20))["type"] == "ready"
    alice_ws, _ = await desk_socket(live, "alice")
    bob_ws, _ = await desk_socket(live, "bob")
    before = await live.service.messages_since(cid)
    try:
        await frames(customer)  # the catch-up
        # The agent types (twice, fast: one indicator), the customer sees her name.
        await alice_ws.send_json({"type": "typing", "conversation_id": cid})
        await alice_ws.send_json({"type": "typing", "conversation_id": cid})
        seen_by_customer = [f for f in await frames(customer) if f["type"] == "typing"]
        assert seen_by_customer == [{"type": "typing", "name": "Alice Moreno"}]
        # The customer types: Alice's desk hears it, Bob's does not, nor the customer's own.
        await customer.send_json({"type": "typing"})
        to_alice = [f for f in await frames(alice_ws) if f.get("event") == "conversation.typing"]
        assert [(f["data"]["who"], f["data"]["conversation_id"]) for f in to_alice] == [
            ("customer", cid)
        ]
        assert not any(f.get("event") == "conversation.typing" for f in await frames(bob_ws))
        assert not any(f["type"] == "typing" for f in await frames(customer))
        # Alice read the last message: the widget shows "seen".
        last = before[-1].id
        await alice_ws.send_json({"type": "seen", "conversation_id": cid, "message_id": last})
        assert {"type": "seen", "message_id": last} in await frames(customer)
        # Bob may not type or mark seen in Alice's chat.
        await bob_ws.send_json({"type": "typing", "conversation_id": cid})
        refusal = [f for f in await frames(bob_ws) if f["type"] == "error"]
        assert refusal[0]["status"] == 403
        await bob_ws.send_json({"type": "seen", "conversation_id": cid, "message_id": "x"})
        assert not any(f["type"] == "seen" for f in await frames(customer))
    finally:
        for ws in (customer, alice_ws, bob_ws):
            await ws.close()
    # Nothing of it was stored.
    assert await live.service.messages_since(cid) == before


async def test_throttle_lets_one_through_per_interval():
    now = [100.0]
    gate = Throttle(2.0, clock=lambda: now[0])
    assert gate.allow("c:agent") and not gate.allow("c:agent")
    assert gate.allow("c:customer")  # each side has its own
    now[0] += 2.0
    assert gate.allow("c:agent")


async def test_presence_is_online_away_or_offline_after_the_grace():
    now = dt.datetime(2026, 11, 30, 12, tzinfo=dt.timezone.utc)
    recent = now - dt.timedelta(seconds=30)
    gone = now - dt.timedelta(seconds=91)
    assert presence_of(True, recent, now, 90) == "online"
    assert presence_of(False, recent, now, 90) == "away"
    assert presence_of(True, gone, now, 90) == "offline"  # the tab was closed
    assert presence_of(False, None, now, 90) == "offline"


async def test_colleagues_show_presence_and_the_desk_reads_its_idle_time(live):
    await online_agent(live.service, "alice", "Alice Moreno")
    away = await online_agent(live.service, "bob", "Bob Stone")
    await live.service.set_availability(away.id, False)
    status, body, _ = await live.call(
        "POST", "/api/agent/login", json={"login": "alice", "password": PASSWORD}
    )
    token = body["token"]
    status, body, _ = await live.call("GET", "/api/agent/colleagues", token)
    assert {a["name"]: a["presence"] for a in body["agents"]} == {
        "Alice Moreno": "online",
        "Bob Stone": "away",
    }
    status, body, _ = await live.call("GET", "/api/agent/desk-settings", token)
    assert body == {"idle_away_seconds": 300, "typing_interval_seconds": 2.0}
