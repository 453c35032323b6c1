"""The agent HTTP API through Sanic's in-process ASGI client."""

import datetime as dt
import itertools
import json
from dataclasses import replace

import jwt
import pytest
import pytest_asyncio

from handoff.auth import issue_token

pytestmark = pytest.mark.asyncio
PASSWORD = "correct horse"
HELPERS = itertools.count()


@pytest_asyncio.fixture
async def desk(app_factory):
    """An app, its client (started, so listeners ran) and helpers to log in."""
    app = app_factory()
    client = app.asgi_client
    await client.get("/desk")  # the first request runs the start-up listeners
    return app, client


async def login(client, service, login="alice", name="Alice"):
    agent = await service.create_agent(login, name, PASSWORD)
    _, response = await client.post("/api/agent/login", json={"login": login, "password": PASSWORD})
    assert response.status == 200, response.json
    return agent, {"Authorization": f"Bearer {response.json['token']}"}


async def queued(service, text="My parcel never came"):
    conv = await service.create_conversation()
    await service.add_message(conv.id, "customer", text)
    helper = await service.create_agent(f"helper{next(HELPERS)}", "Helper", PASSWORD)
    await service.set_availability(helper.id, True)
    result = await service.enqueue(conv.id, "frustration", {"summary": "Late parcel"})
    assert result.outcome == "queued"
    return conv


async def test_login_gives_a_token_and_bad_logins_are_401(desk):
    app, client = desk
    service = app.ctx.handoff
    await service.create_agent("alice", "Alice", PASSWORD)
    _, ok = await client.post("/api/agent/login", json={"login": "alice", "password": PASSWORD})
    assert ok.status == 200 and ok.json["agent"]["name"] == "Alice"
    assert "password_hash" not in ok.json["agent"]
    _, bad = await client.post("/api/agent/login", json={"login": "alice", "password": "nope"})
    assert (bad.status, bad.json) == (401, {"error": "wrong login or password"})
    _, missing = await client.post("/api/agent/login", json={"login": "alice"})
    assert (missing.status, missing.json) == (422, {"error": "missing field(s): password"})


@pytest.mark.parametrize(
    "path", ["/api/agent/me", "/api/agent/queue", "/api/agent/tickets", "/api/agent/conversations"]
)
async def test_every_agent_route_needs_a_token(desk, path):
    _, client = desk
    _, response = await client.get(path)
    assert response.status == 401
    assert response.json == {"error": "log in first: this needs an agent session token"}
    _, forged = await client.get(path, headers={"Authorization": "Bearer not-a-token"})
    assert (forged.status, forged.json) == (401, {"error": "invalid session token"})


async def test_expired_forged_and_disabled_tokens_are_401(desk):
    app, client = desk
    service = app.ctx.handoff
    agent, headers = await login(client, service)
    secret = app.ctx.handoff_settings.secret_key
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
    expired = issue_token(agent.id, secret, 60, old)
    _, response = await client.get("/api/agent/me", headers={"Authorization": f"Bearer {expired}"})
    assert (response.status, response.json["error"]) == (
        401,
        "session expired, please log in again",
    )
    forged = jwt.encode(
        {"sub": str(agent.id), "exp": 9999999999, "typ": "agent"}, "a-guessed-secret-" * 3, "HS256"
    )
    _, response = await client.get("/api/agent/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status == 401
    _, response = await client.get("/api/agent/me", headers=headers)
    assert response.status == 200
    await service.disable_agent("alice")
    _, response = await client.get("/api/agent/me", headers=headers)
    assert (response.status, response.json["error"]) == (401, "this agent account is disabled")


async def test_claim_reply_hand_back_over_http(desk):
    app, client = desk
    service = app.ctx.handoff
    agent, headers = await login(client, service)
    conv = await queued(service)
    _, response = await client.get("/api/agent/queue", headers=headers)
    [item] = response.json["queue"]
    assert (item["conversation_id"], item["reason"], item["first_message"]) == (
        conv.id,
        "frustration",
        "My parcel never came",
    )
    _, response = await client.post(f"/api/agent/conversations/{conv.id}/claim", headers=headers)
    assert response.status == 200 and response.json["conversation"]["agent_id"] == agent.id
    html = '<img src=x onerror="alert(1)"> <b>Hello</b> & welcome'
    _, response = await client.post(
        f"/api/agent/conversations/{conv.id}/messages", headers=headers, json={"text": html}
    )
    assert response.status == 201 and response.json["message"]["text"] == html
    _, response = await client.get(f"/api/agent/conversations/{conv.id}", headers=headers)
    body = response.json
    assert body["handoff"]["context"] == {"summary": "Late parcel"}
    assert [m["text"] for m in body["messages"]] == ["My parcel never came", html]
    assert "&lt;" not in response.body.decode()  # stored and returned as text, not escaped
    first_id = body["messages"][0]["id"]
    _, response = await client.get(
        f"/api/agent/conversations/{conv.id}/messages?after={first_id}", headers=headers
    )
    assert [m["text"] for m in response.json["messages"]] == [html]
    _, response = await client.post(f"/api/agent/conversations/{conv.id}/handback", headers=headers)
    assert response.json["conversation"]["state"] == "bot"
    # Handed back: no longer this agent's to see.
    _, response = await client.get(f"/api/agent/conversations/{conv.id}", headers=headers)
    assert response.status == 403


async def test_403_for_another_agents_chat(desk):
    app, client = desk
    service = app.ctx.handoff
    alice, alice_headers = await login(client, service, "alice", "Alice")
    _, bob_headers = await login(client, service, "bob", "Bob")
    conv = await queued(service)
    _, response = await client.get(f"/api/agent/conversations/{conv.id}", headers=bob_headers)
    assert response.status == 200  # queued chats are visible to every agent
    await service.claim(conv.id, alice.id)
    for method, path, body in [
        ("get", f"/api/agent/conversations/{conv.id}", None),
        ("get", f"/api/agent/conversations/{conv.id}/messages", None),
        ("post", f"/api/agent/conversations/{conv.id}/messages", {"text": "hi"}),
        ("post", f"/api/agent/conversations/{conv.id}/handback", None),
        ("post", f"/api/agent/conversations/{conv.id}/close", None),
    ]:
        call = getattr(client, method)
        kwargs = {"json": body} if body else {}
        _, response = await call(path, headers=bob_headers, **kwargs)
        assert response.status == 403, path
        assert "not" in response.json["error"]
    chat = await service.conversation_detail(conv.id)
    assert [m.author for m in chat.messages] == ["customer"]  # nothing was added


async def test_409_already_taken_and_over_cap(desk):
    app, client = desk
    service = app.ctx.handoff
    alice, alice_headers = await login(client, service, "alice", "Alice")
    _, bob_headers = await login(client, service, "bob", "Bob")
    chats = [await queued(service) for _ in range(4)]
    _, response = await client.post(
        f"/api/agent/conversations/{chats[0].id}/claim", headers=alice_headers
    )
    assert response.status == 200
    _, response = await client.post(
        f"/api/agent/conversations/{chats[0].id}/claim", headers=bob_headers
    )
    assert (response.status, response.json) == (
        409,
        {"error": "this chat was already taken by Alice"},
    )
    for conv in chats[1:3]:
        await service.claim(conv.id, alice.id)
    _, response = await client.post(
        f"/api/agent/conversations/{chats[3].id}/claim", headers=alice_headers
    )
    assert response.status == 409
    assert response.json["error"].startswith("you already have 3 chats")


@pytest.mark.parametrize(
    "body, error",
    [
        (b"{not json", "the request body must be valid JSON"),
        (b"[1, 2]", "the request body must be a JSON object"),
        (b"{}", "missing field(s): text"),
        (json.dumps({"text": ""}).encode(), "text must not be empty"),
        (json.dumps({"text": "   "}).encode(), "text must not be empty"),
        (json.dumps({"text": 5}).encode(), "text must be a string"),
        (
            json.dumps({"text": "y" * 2001}).encode(),
            "text is too long: 2001 characters, the limit is 2000",
        ),
    ],
)
async def test_422_for_bad_messages_and_nothing_is_stored(desk, body, error):
    app, client = desk
    service = app.ctx.handoff
    agent, headers = await login(client, service)
    conv = await queued(service)
    await service.claim(conv.id, agent.id)
    _, response = await client.post(
        f"/api/agent/conversations/{conv.id}/messages", headers=headers, content=body
    )
    assert (response.status, response.json) == (422, {"error": error})
    assert len(await service.messages_since(conv.id, 0)) == 1


async def test_404_and_422_for_unknown_ids_and_bad_arguments(desk):
    app, client = desk
    service = app.ctx.handoff
    _, headers = await login(client, service)
    _, response = await client.post(
        "/api/agent/conversations/does-not-exist/claim", headers=headers
    )
    assert (response.status, response.json) == (404, {"error": "no such conversation"})
    _, response = await client.post("/api/agent/tickets/12345/done", headers=headers)
    assert (response.status, response.json) == (404, {"error": "no such ticket"})
    conv = await queued(service)
    _, response = await client.get(
        f"/api/agent/conversations/{conv.id}/messages?after=-3", headers=headers
    )
    assert (response.status, response.json) == (
        422,
        {"error": "after must be a whole number from 0 to 9223372036854775807"},
    )
    _, response = await client.post("/api/agent/status", headers=headers, json={"online": "yes"})
    assert (response.status, response.json) == (422, {"error": "online must be true or false"})
    _, response = await client.get("/api/agent/unknown-route", headers=headers)
    assert response.status == 404 and "error" in response.json


async def test_status_toggle_and_load(desk):
    app, client = desk
    service = app.ctx.handoff
    agent, headers = await login(client, service)
    _, response = await client.post("/api/agent/status", headers=headers, json={"online": True})
    assert response.json["agent"]["online"] is True
    conv = await queued(service)
    await service.claim(conv.id, agent.id)
    _, response = await client.get("/api/agent/me", headers=headers)
    assert (response.json["agent"]["load"], response.json["agent"]["max_chats"]) == (1, 3)
    _, response = await client.get("/api/agent/conversations", headers=headers)
    assert [c["id"] for c in response.json["conversations"]] == [conv.id]


async def test_offline_tickets_are_listed_and_readable(desk):
    app, client = desk
    service = app.ctx.handoff
    _, headers = await login(client, service)  # nobody online
    conv = await service.create_conversation()
    await service.add_message(conv.id, "customer", "Need help with a refund")
    result = await service.enqueue(conv.id, "customer_request", {"summary": "Refund"})
    assert result.outcome == "offline"
    await service.leave_contact(conv.id, "ann@example.com", "call me after 5")
    _, response = await client.get("/api/agent/tickets", headers=headers)
    [ticket] = response.json["tickets"]
    assert (ticket["contact"], ticket["reason"]) == ("ann@example.com", "customer_request")
    _, response = await client.get(f"/api/agent/conversations/{conv.id}", headers=headers)
    assert response.status == 200  # a ticket's transcript is readable
    _, response = await client.post(f"/api/agent/tickets/{ticket['id']}/done", headers=headers)
    assert response.json["ticket"]["state"] == "done"


async def test_desk_page_has_a_strict_csp_and_no_inline_code(desk):
    _, client = desk
    _, page = await client.get("/desk")
    assert page.status == 200
    csp = page.headers["content-security-policy"]
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self' ws: wss:",
    ]:
        assert directive in csp
    html = page.text
    assert "<script>" not in html and "style=" not in html and " on" + "click=" not in html
    _, script = await client.get("/desk/static/desk.js")
    assert script.status == 200 and "innerHTML" not in script.text
    _, api = await client.get("/api/agent/queue")
    assert "content-security-policy" in api.headers


async def test_demo_agent_only_in_demo_mode(app_factory, desk_settings, caplog):
    plain = app_factory()
    await plain.asgi_client.get("/desk")
    assert [a.login for a in await plain.ctx.handoff.list_agents()] == []
    demo = app_factory(replace(desk_settings, demo=True))
    with caplog.at_level("WARNING", logger="handoff"):
        _, _ = await demo.asgi_client.get("/desk")
    _, response = await demo.asgi_client.post(
        "/api/agent/login", json={"login": "demo", "password": "demo"}
    )
    assert response.status == 200
    assert "DEMO MODE" in caplog.text
