"""Private notes never reach the customer: not their API, their socket, nor the
transcript e-mail; on the desk they reach only the agents who see the chat."""

from __future__ import annotations

import asyncio

import pytest
from bot_support import online_agent, wait_for

pytestmark = pytest.mark.asyncio
NOTE = "Private: customer threatened a chargeback, be careful"
PASSWORD = "correct horse battery"


async def desk_token(live, login):
    status, body, _ = await live.call(
        "POST", "/api/agent/login", json={"login": login, "password": PASSWORD}
    )
    assert status == 200, body
    return body["token"]


async def desk_socket(live, token):
    ws = await live.http.ws_connect(f"{live.url.replace('http', 'ws')}/api/agent/ws")
    await ws.send_json({"type": "hello", "token": token})
    assert (await ws.receive_json(timeout=20))["type"] == "ready"
    return ws


async def frames_until(ws, predicate, timeout=20.0):
    frames = []
    while not any(predicate(f) for f in frames):
        frames.append(await ws.receive_json(timeout=timeout))
    return frames


async def drain(ws, seconds=0.5):
    frames = []
    try:
        while True:
            frames.append(await ws.receive_json(timeout=seconds))
    except asyncio.TimeoutError:
        return frames


async def test_a_note_never_reaches_the_customer(make_live, smtp):
    inbox, port = smtp
    live = await make_live(bot_overrides={"smtp_host": "127.0.0.1", "smtp_port": port})
    alice = await online_agent(live.service, "alice", "Alice Moreno")
    await online_agent(live.service, "bob", "Bob Stone")
    cid, token, _ = await live.start_chat()
    await live.call(
        "POST", f"/api/conversations/{cid}/contact", token, json={"contact": "sam@example.com"}
    )
    await live.say(cid, token, "this is useless")  # the fake Rasa hands off
    await live.service.claim(cid, alice.id)
    alice_token, bob_token = await desk_token(live, "alice"), await desk_token(live, "bob")
    customer = await live.http.ws_connect(
        f"{live.url.replace('http', 'ws')}/api/conversations/{cid}/ws"
    )
    await customer.send_json({"type": "hello", "token": token})
    await frames_until(customer, lambda f: f["type"] == "ready")
    alice_ws, bob_ws = await desk_socket(live, alice_token), await desk_socket(live, bob_token)
    try:
        status, body, _ = await live.call(
            "POST", f"/api/agent/conversations/{cid}/notes", alice_token, json={"text": NOTE}
        )
        assert status == 201, body
        # The owner's desk gets it live; then a reply so the customer has something after it.
        got = await frames_until(alice_ws, lambda f: f.get("event") == "note.created")
        assert got[-1]["data"]["text"] == NOTE
        await live.call(
            "POST", f"/api/agent/conversations/{cid}/messages", alice_token, json={"text": "On it!"}
        )
        seen = await frames_until(
            customer, lambda f: f["type"] == "message" and f["message"]["text"] == "On it!"
        )
        seen += await drain(customer)
        assert NOTE not in str(seen) and "note" not in {f["type"] for f in seen}
        # Bob does not own the chat: his desk never hears of the note.
        assert NOTE not in str(await drain(bob_ws))
    finally:
        for ws in (customer, alice_ws, bob_ws):
            await ws.close()
    status, body, _ = await live.call("GET", f"/api/conversations/{cid}/messages", token)
    assert status == 200 and "On it!" in str(body) and NOTE not in str(body)
    status, body, _ = await live.call("GET", f"/api/conversations/{cid}", token)
    assert NOTE not in str(body)
    await live.call("POST", f"/api/conversations/{cid}/close", token)
    status, body, _ = await live.call(
        "POST", f"/api/conversations/{cid}/transcript", token, json={"email": "sam@example.com"}
    )
    assert status == 202, body

    async def mailed():
        return bool(inbox.mails)

    await wait_for(mailed)
    text = inbox.mails[0].content.decode()
    assert "On it!" in text and "chargeback" not in text
