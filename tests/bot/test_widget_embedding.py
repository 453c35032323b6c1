"""The widget on the shop's own site: CORS, the socket's Origin check, signed identity,
returning customers (desk side: agents only). Against the web app served for real."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest
from bot_support import online_agent

from bot import identity

pytestmark = pytest.mark.asyncio
SHOP = "https://shop.example"
SECRET = "identity-secret-" + "s" * 40
ORIGINS = {"widget_origins": (SHOP, "http://localhost:*"), "identity_secret": SECRET}
START = "/api/conversations"


async def raw(live, method, path, headers=None, body=None):
    """(status, headers, JSON body or None) with exactly the headers given."""
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {**(headers or {}), **({"Content-Type": "application/json"} if data else {})}
    async with live.http.request(method, live.url + path, headers=all_headers, data=data) as r:
        text = await r.text()
        is_json = r.content_type == "application/json"
        return r.status, r.headers, (json.loads(text) if text and is_json else None)


async def conversation_count(live):
    from sqlalchemy import func, select

    from handoff.models import conversations

    async with live.service.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(conversations))).scalar()


def signed(customer_id="c-1001", email="ana@example.com", name="Ana Pereira", ts=None, key=SECRET):
    ts = int(time.time()) if ts is None else ts
    return {
        "id": customer_id,
        "email": email,
        "name": name,
        "timestamp": ts,
        "signature": identity.sign(key, customer_id, email, name, ts),
    }


# ---- CORS ---------------------------------------------------------------------------------


async def test_preflight_from_a_listed_origin_names_that_origin_never_a_star(make_live):
    live = await make_live(ORIGINS)
    status, headers, _ = await raw(
        live,
        "OPTIONS",
        START + "/abc/messages",
        {
            "Origin": SHOP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == SHOP
    assert "Origin" in headers["Vary"]
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert {"authorization", "content-type"} <= {
        h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")
    }
    # The demo pattern: any port of localhost.
    status, headers, _ = await raw(
        live,
        "OPTIONS",
        START,
        {"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
    )
    assert (status, headers["Access-Control-Allow-Origin"]) == (204, "http://localhost:5173")


async def test_a_listed_origin_chats_and_reads_the_answers(make_live):
    live = await make_live(ORIGINS)
    status, headers, body = await raw(live, "POST", START, {"Origin": SHOP})
    assert status == 201
    assert headers["Access-Control-Allow-Origin"] == SHOP
    assert "Retry-After" in headers["Access-Control-Expose-Headers"]
    assert "*" not in headers["Access-Control-Allow-Origin"]
    cid, token = body["conversation_id"], body["token"]
    status, headers, _ = await raw(
        live,
        "POST",
        f"{START}/{cid}/messages",
        {"Origin": SHOP, "Authorization": f"Bearer {token}"},
        {"text": "hello"},
    )
    assert (status, headers["Access-Control-Allow-Origin"]) == (201, SHOP)


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://shop.example",  # another scheme is another origin
        "https://shop.example:8443",  # another port too
        "https://shop.example.evil.example",
        "null",  # sandboxed frames, file:// pages
    ],
)
async def test_an_origin_not_listed_is_refused_and_starts_no_conversation(make_live, origin):
    live = await make_live(ORIGINS)
    before = await conversation_count(live)
    status, headers, body = await raw(live, "POST", START, {"Origin": origin})
    assert status == 403
    assert "not available on this site" in body["error"]
    assert "Access-Control-Allow-Origin" not in headers
    assert await conversation_count(live) == before
    status, headers, _ = await raw(
        live, "OPTIONS", START, {"Origin": origin, "Access-Control-Request-Method": "POST"}
    )
    assert status == 403 and "Access-Control-Allow-Origin" not in headers


async def test_without_origins_listed_only_the_servers_own_pages_may_call(make_live):
    live = await make_live()  # no WIDGET_ORIGINS, not the demo
    status, _, _ = await raw(live, "POST", START, {"Origin": "http://localhost:8080"})
    assert status == 403
    status, _, body = await raw(live, "POST", START, {"Origin": live.url})
    assert status == 201
    # The server's own page opens the socket too (its scheme is ws, its Origin http).
    ws_url = live.url.replace("http", "ws") + f"{START}/{body['conversation_id']}/ws"
    async with live.http.ws_connect(ws_url, headers={"Origin": live.url}) as ws:
        await ws.send_json({"type": "hello", "token": body["token"], "after": 0})
        assert (await ws.receive_json(timeout=10))["type"] == "ready"


async def test_a_spoofed_origin_on_a_plain_request_gains_nothing(make_live):
    # A script can claim any Origin, but it could also send none: either way it gets
    # exactly what any client gets, a new anonymous chat of its own, never another's.
    live = await make_live(ORIGINS)
    other, other_token, _ = await live.start_chat()
    status, _, body = await raw(live, "POST", START, {"Origin": SHOP})
    assert status == 201 and body["conversation_id"] != other
    status, _, _ = await raw(
        live,
        "GET",
        f"{START}/{other}/messages",
        {"Origin": SHOP, "Authorization": f"Bearer {body['token']}"},
    )
    assert status == 403
    # The desk never sends CORS headers, whatever the origin.
    status, headers, _ = await raw(live, "GET", "/api/agent/config", {"Origin": SHOP})
    assert "Access-Control-Allow-Origin" not in headers
    status, headers, _ = await raw(live, "GET", "/desk")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


async def test_the_customer_socket_checks_the_origin(make_live):
    live = await make_live(ORIGINS)
    cid, token, _ = await live.start_chat()
    ws_url = live.url.replace("http", "ws") + f"{START}/{cid}/ws"
    async with live.http.ws_connect(ws_url, headers={"Origin": "https://evil.example"}) as ws:
        frame = await ws.receive_json(timeout=10)
        assert frame["type"] == "error" and frame["status"] == 403
        assert "not available on this site" in frame["error"]
        closing = await ws.receive(timeout=10)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == 4403
    async with live.http.ws_connect(ws_url, headers={"Origin": SHOP}) as ws:
        await ws.send_json({"type": "hello", "token": token, "after": 0})
        assert (await ws.receive_json(timeout=10))["type"] == "ready"


# ---- signed identity ------------------------------------------------------------------------


async def test_a_valid_signature_links_the_chat_to_the_customer(make_live):
    live = await make_live(ORIGINS)
    status, body, _ = await live.call("POST", START, json={"customer": signed()})
    assert status == 201
    assert body["customer"] == {"identified": True, "problem": None}
    card = await live.service.customer_card(body["conversation_id"])
    assert card.label == "Ana Pereira" and card.customer.external_id == "c-1001"
    assert card.customer.email == "ana@example.com"


@pytest.mark.parametrize(
    "customer, problem",
    [
        ({**signed(), "signature": "0" * 64}, "does not match"),
        (signed(key="the-shops-old-secret-" + "o" * 30), "does not match"),
        # A real signature for c-1001, presented for another customer: refused.
        ({**signed(), "id": "c-2002"}, "does not match"),
        ({**signed(), "name": "Someone Else"}, "does not match"),
        (signed(ts=int(time.time()) - 2 * 24 * 3600), "expired"),
        (signed(ts=int(time.time()) + 3600), "future"),
        ({**signed(), "signature": None}, "64 hexadecimal"),
        ({**signed(), "timestamp": "yesterday"}, "whole number"),
        ({**signed(), "id": "x" * 500}, "at most 128"),
        ("c-1001", "must be an object"),
    ],
)
async def test_a_forged_or_stale_identity_is_ignored_and_the_chat_works(
    make_live, customer, problem
):
    live = await make_live(ORIGINS)
    status, body, _ = await live.call("POST", START, json={"customer": customer})
    assert status == 201, body
    assert body["customer"]["identified"] is False
    assert problem in body["customer"]["problem"]
    card = await live.service.customer_card(body["conversation_id"])
    assert card.customer is None and card.label.startswith("Visitor ")
    status, _, _ = await live.say(body["conversation_id"], body["token"], "hello")
    assert status == 201


async def test_without_a_shared_secret_no_identity_is_trusted(make_live):
    live = await make_live({"widget_origins": (SHOP,)})
    status, body, _ = await live.call("POST", START, json={"customer": signed()})
    assert status == 201 and body["customer"]["identified"] is False
    assert "accepts no customer identity" in body["customer"]["problem"]


async def test_a_malformed_start_body_is_a_clear_error(make_live):
    live = await make_live(ORIGINS)
    status, body, _ = await live.call("POST", START, data=b"{not json")
    assert status == 422 and "valid JSON" in body["error"]


async def test_a_name_with_markup_is_kept_as_text(make_live):
    live = await make_live(ORIGINS)
    name = '<img src=x onerror="alert(1)">Ana'
    status, body, _ = await live.call("POST", START, json={"customer": signed(name=name)})
    assert status == 201 and body["customer"]["identified"] is True
    card = await live.service.customer_card(body["conversation_id"])
    assert card.label == name  # stored and served verbatim; the desk shows it as text


# ---- returning customers ---------------------------------------------------------------------


async def test_an_identified_customer_continues_on_another_device(make_live):
    live = await make_live(ORIGINS)
    status, first, _ = await live.call("POST", START, json={"customer": signed()})
    await live.say(first["conversation_id"], first["token"], "where is my parcel")
    # Another device: same signed customer, no stored chat.
    status, body, _ = await live.call("POST", START + "/recent", json={"customer": signed()})
    assert status == 200 and body["conversation_id"] == first["conversation_id"]
    status, history, _ = await live.call(
        "GET", f"{START}/{body['conversation_id']}/messages", body["token"]
    )
    assert "where is my parcel" in [m["text"] for m in history["messages"]]
    # A forged identity gets nothing; another customer has no recent chat.
    status, body, _ = await live.call(
        "POST", START + "/recent", json={"customer": {**signed(), "signature": "f" * 64}}
    )
    assert status == 403 and "does not match" in body["error"]
    status, _, _ = await live.call(
        "POST", START + "/recent", json={"customer": signed(customer_id="c-3003")}
    )
    assert status == 404
    # A closed chat is not offered again.
    await live.call("POST", f"{START}/{first['conversation_id']}/close", first["token"])
    status, _, _ = await live.call("POST", START + "/recent", json={"customer": signed()})
    assert status == 404


async def test_the_desk_shows_earlier_conversations_to_agents_only(make_live):
    live = await make_live(ORIGINS)
    service = live.service
    agent = await online_agent(service)
    agent_token = await service.open_session(agent.id)
    # An earlier chat: handed off, closed, rated 4.
    _, old, _ = await live.call("POST", START, json={"customer": signed()})
    await live.say(old["conversation_id"], old["token"], "my refund never came")
    await service.enqueue(old["conversation_id"], "customer_request")
    await service.claim(old["conversation_id"], agent.id)
    await service.close(old["conversation_id"], agent.id)
    await live.call(
        "POST", f"{START}/{old['conversation_id']}/csat", old["token"], json={"score": 4}
    )
    # Today's chat, waiting in the queue.
    _, new, _ = await live.call("POST", START, json={"customer": signed()})
    await service.enqueue(new["conversation_id"], "frustration")
    path = f"/api/agent/conversations/{new['conversation_id']}/customer"
    status, card, _ = await live.call("GET", path, agent_token)
    assert status == 200
    assert card["label"] == "Ana Pereira" and card["identified"] is True
    assert [(c["id"], c["reason"], c["csat"]) for c in card["earlier"]] == [
        (old["conversation_id"], "customer_request", 4)
    ]
    assert card["earlier"][0]["created_at"] and card["earlier"][0]["closed_at"]
    status, transcript, _ = await live.call(
        "GET", f"{path}/earlier/{old['conversation_id']}", agent_token
    )
    assert status == 200
    assert "my refund never came" in [m["text"] for m in transcript["messages"]]
    # Read-only: no route writes to it.
    status, _, _ = await live.call(
        "POST", f"{path}/earlier/{old['conversation_id']}", agent_token, json={"text": "x"}
    )
    assert status in (404, 405)
    # A customer's own token is no agent session; nobody unauthenticated gets in.
    assert (await live.call("GET", path, new["token"]))[0] == 401
    assert (await live.call("GET", path))[0] == 401
    # An anonymous chat is never linked to anyone's earlier chats.
    anon, _, _ = await live.start_chat()
    await service.enqueue(anon, "customer_request")
    status, card, _ = await live.call(
        "GET", f"/api/agent/conversations/{anon}/customer", agent_token
    )
    assert (card["label"], card["identified"], card["earlier"]) == (
        f"Visitor {anon[:6]}",
        False,
        [],
    )
    status, _, _ = await live.call(
        "GET",
        f"/api/agent/conversations/{anon}/customer/earlier/{old['conversation_id']}",
        agent_token,
    )
    assert status == 404


async def test_an_agent_sees_history_only_through_a_chat_they_may_see(make_live):
    live = await make_live(ORIGINS)
    service = live.service
    alice = await online_agent(service)
    bob = await online_agent(service, "bob", "Bob Stone")
    _, chat, _ = await live.call("POST", START, json={"customer": signed()})
    await service.enqueue(chat["conversation_id"], "customer_request")
    await service.claim(chat["conversation_id"], alice.id)
    bob_token = await service.open_session(bob.id)
    status, _, _ = await live.call(
        "GET", f"/api/agent/conversations/{chat['conversation_id']}/customer", bob_token
    )
    assert status == 403
