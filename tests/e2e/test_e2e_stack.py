"""End to end without a browser: the real Rasa, action server and web app processes."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

pytestmark = [pytest.mark.asyncio, pytest.mark.integration]
WAIT = 60  # seconds; only a hang reaches it


class Client:
    """A customer (or agent) talking HTTP to the web app."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base

    async def call(
        self, method: str, path: str, token: str | None = None, json: Any = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(
            method,
            self.base + path,
            json=json,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=WAIT),
        ) as response:
            return response.status, await response.json(content_type=None)


async def rasa_tracker(http: aiohttp.ClientSession, stack, cid: str) -> dict[str, Any]:
    url = f"{stack.rasa_url}/conversations/{cid}/tracker"
    async with http.get(url, params={"token": stack.rasa_token}) as response:
        assert response.status == 200
        return await response.json()


async def wait_for_text(stack, cid: str, text: str) -> None:
    for _ in range(WAIT * 10):
        if any(row[2] == text for row in stack.rows(cid)):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{text!r} never stored in {cid}: {stack.rows(cid)}")


async def test_a_whole_conversation_through_the_real_stack(stack):
    async with aiohttp.ClientSession() as http:
        api = Client(http, stack.url)
        status, login = await api.call(
            "POST", "/api/agent/login", json={"login": "demo", "password": "demo"}
        )
        assert status == 200, login
        agent = login["token"]
        assert (await api.call("POST", "/api/agent/status", agent, {"online": True}))[0] == 200

        status, chat = await api.call("POST", "/api/conversations")
        assert status == 201, chat
        cid, token = chat["conversation_id"], chat["token"]
        first = chat["messages"][0]
        assert first["author"] == "bot" and "automated bot, not a person" in first["text"]
        path = f"/api/conversations/{cid}/messages"

        status, body = await api.call("POST", path, token, {"text": "How do I return an item?"})
        assert status == 201 and "return" in body["replies"][0]["text"].lower()

        # "/restart" typed by a customer is words, not Rasa's restart intent.
        status, body = await api.call("POST", path, token, {"text": "/restart"})
        assert status == 201 and body["message"]["text"] == "/restart"
        assert body["replies"] and "automated bot" not in body["replies"][0]["text"]
        tracker = await rasa_tracker(http, stack, cid)
        intents = [
            e["parse_data"]["intent"]["name"] for e in tracker["events"] if e["event"] == "user"
        ]
        assert "restart" not in intents
        assert not any(e["event"] == "restart" for e in tracker["events"])

        evil = "<script>alert('x')</script> is this safe?"
        status, body = await api.call("POST", path, token, {"text": evil})
        assert status == 201 and body["message"]["text"] == evil
        status, body = await api.call("POST", path, token, {"text": "y" * 2001})
        assert status == 413 and "limit is 2000" in body["error"]
        status, body = await api.call("POST", path, token[:-3] + "abc", {"text": "hi"})
        assert status == 401

        status, body = await api.call(
            "POST", path, token, {"text": "this is useless, I want a human"}
        )
        assert status == 201 and body["handoff"]["outcome"] == "queued", body
        assert body["handoff"]["position"] >= 1

        status, body = await api.call("POST", path, token, {"text": "are you there?"})
        assert status == 201 and body["replies"] == []
        status, _ = await api.call("POST", f"/api/agent/conversations/{cid}/claim", agent)
        assert status == 200
        await wait_for_text(stack, cid, "Demo Agent joined the chat.")
        status, body = await api.call("POST", path, token, {"text": "hello Demo"})
        assert status == 201 and body["replies"] == []
        status, _ = await api.call(
            "POST", f"/api/agent/conversations/{cid}/messages", agent, {"text": "Hi, I'm on it."}
        )
        assert status == 201
        # The bot never saw what was written while a person was coming or there.
        tracker = await rasa_tracker(http, stack, cid)
        texts = [e.get("text") for e in tracker["events"] if e["event"] == "user"]
        assert "are you there?" not in texts and "hello Demo" not in texts

        # A reconnecting widget gets exactly what it missed, once, in order.
        rows = stack.rows(cid)
        cut = rows[len(rows) // 2][0]
        ws_url = f"{stack.url.replace('http', 'ws')}/api/conversations/{cid}/ws"
        async with http.ws_connect(ws_url) as ws:
            await ws.send_json({"type": "hello", "token": token, "after": cut})
            ready = await ws.receive_json(timeout=WAIT)
            assert (ready["type"], ready["state"], ready["agent_name"]) == (
                "ready",
                "assigned",
                "Demo Agent",
            )
            expected = [row[0] for row in rows if row[0] > cut]
            got = [(await ws.receive_json(timeout=WAIT))["message"]["id"] for _ in expected]
            assert got == expected
            status, _ = await api.call(
                "POST",
                f"/api/agent/conversations/{cid}/messages",
                agent,
                {"text": "Found it: it ships today."},
            )
            live = await ws.receive_json(timeout=WAIT)
            assert live["message"]["text"] == "Found it: it ships today."
            assert live["message"]["agent_name"] == "Demo Agent"

        status, _ = await api.call("POST", f"/api/agent/conversations/{cid}/handback", agent)
        assert status == 200
        await wait_for_text(stack, cid, "The assistant is back.")
        status, body = await api.call(
            "POST", path, token, {"text": "Which payment methods do you accept?"}
        )
        assert status == 201 and "Visa" in body["replies"][0]["text"]
        await api.call("POST", f"/api/conversations/{cid}/close", token)

    # Every message stored exactly once, in order.
    rows = stack.rows(cid)
    customer = [text for _, author, text in rows if author == "customer"]
    assert customer == [
        "How do I return an item?",
        "/restart",
        evil,
        "this is useless, I want a human",
        "are you there?",
        "hello Demo",
        "Which payment methods do you accept?",
    ]
    ids = [row[0] for row in rows]
    assert ids == sorted(set(ids))
    assert rows[0][1] == "bot" and "automated bot" in rows[0][2]
    authors_after_queue: list[str] = [
        a for _, a, t in rows[rows.index(next(r for r in rows if r[2] == "are you there?")) :]
    ]
    # Between the queue and the hand-back, no bot message at all.
    back = authors_after_queue.index("system", authors_after_queue.index("agent"))
    assert "bot" not in authors_after_queue[:back]


async def test_the_assistant_tells_the_hours_an_admin_set_in_the_desk(stack):
    from tools.stack.runner import ALWAYS_OPEN_HOURS

    # Still open around the clock, so the other tests of this stack are not affected.
    tokyo = {**ALWAYS_OPEN_HOURS, "timezone": "Asia/Tokyo"}
    del tokyo["summary"]
    async with aiohttp.ClientSession() as http:
        api = Client(http, stack.url)

        async def hours_answer() -> str:
            status, chat = await api.call("POST", "/api/conversations")
            assert status == 201, chat
            status, body = await api.call(
                "POST",
                f"/api/conversations/{chat['conversation_id']}/messages",
                chat["token"],
                {"text": "What are your opening hours?"},
            )
            assert status == 201 and body["replies"], body
            return str(body["replies"][0]["text"])

        # The web app's shop file (not the action server's shop.yml) says the hours.
        assert f"People are available {ALWAYS_OPEN_HOURS['summary']}." in await hours_answer()
        status, login = await api.call(
            "POST", "/api/agent/login", json={"login": "demo", "password": "demo"}
        )
        assert status == 200, login
        admin = login["token"]
        status, saved = await api.call("PUT", "/api/admin/hours", admin, {"support_hours": tokyo})
        try:
            assert status == 200, saved
            assert saved["summary"] == "Monday to Sunday 0:00-24:00 (Asia/Tokyo time)"
            assert f"People are available {saved['summary']}." in await hours_answer()
        finally:
            status, reset = await api.call("DELETE", "/api/admin/hours", admin)
            assert status == 200 and reset["source"] == "file", reset
        assert f"People are available {ALWAYS_OPEN_HOURS['summary']}." in await hours_answer()
