"""Doors of the desk an attacker pushes on: sign-in guessing, demo mode, sign-out,
malformed input (issue 12, points 5, 6, 10, 11)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
import websockets

pytestmark = pytest.mark.asyncio
PASSWORD = "correct horse"
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 20


async def started(app):
    await app.asgi_client.get("/desk")  # the first request runs the start-up listeners
    return app.asgi_client


async def sign_in(client, name, password):
    _, response = await client.post("/api/agent/login", json={"login": name, "password": password})
    return response


def throttled_app(app_factory, desk_settings, per_login, per_address, slowdown_seconds):
    """A desk app whose sign-in throttle has these limits."""
    return app_factory(
        replace(
            desk_settings,
            login_failures_per_login=per_login,
            login_failures_per_address=per_address,
            login_slowdown_seconds=slowdown_seconds,
        )
    )


async def test_failed_sign_ins_slow_down_then_are_refused_even_with_the_right_password(
    app_factory, desk_settings
):
    app = throttled_app(app_factory, desk_settings, 4, 100, 0.3)
    client = await started(app)
    await app.ctx.handoff.create_agent("alice", "Alice", PASSWORD)
    timings = []
    for _ in range(4):
        began = time.monotonic()
        response = await sign_in(client, "alice", "guess")
        timings.append(time.monotonic() - began)
        assert (response.status, response.json) == (401, {"error": "wrong login or password"})
    # The first two answer at once; past half the limit each failure waits.
    assert timings[2] >= 0.3 and timings[3] >= 0.3
    refused = await sign_in(client, "alice", PASSWORD)
    assert refused.status == 429
    assert "too many failed sign-ins" in refused.json["error"]
    assert 1 <= int(refused.headers["retry-after"]) <= 900
    # The name is refused, not the address: another agent still signs in.
    await app.ctx.handoff.create_agent("bob", "Bob", PASSWORD)
    assert (await sign_in(client, "bob", PASSWORD)).status == 200


async def test_unknown_names_get_the_same_answers_as_wrong_passwords(app_factory, desk_settings):
    app = throttled_app(app_factory, desk_settings, 3, 100, 0)
    client = await started(app)
    await app.ctx.handoff.create_agent("alice", "Alice", PASSWORD)
    answers = {}
    for name in ("alice", "nobody"):
        seen = [await sign_in(client, name, "guess") for _ in range(4)]
        # The wait counts down between the two rounds (900 s, then maybe 899 s): the
        # answers must be the same apart from the number.
        answers[name] = [(r.status, re.sub(r"\d+ s\b", "N s", r.json["error"])) for r in seen]
        assert seen[-1].headers["retry-after"]
    assert answers["alice"] == answers["nobody"]
    assert [status for status, _ in answers["nobody"]] == [401, 401, 401, 429]


async def test_one_address_guessing_many_names_is_refused(app_factory, desk_settings):
    app = throttled_app(app_factory, desk_settings, 100, 5, 0)
    client = await started(app)
    statuses = [(await sign_in(client, f"name{n}", "guess")).status for n in range(7)]
    assert statuses == [401] * 5 + [429] * 2


async def test_a_correct_sign_in_clears_the_names_failures(app_factory, desk_settings):
    app = throttled_app(app_factory, desk_settings, 3, 100, 0)
    client = await started(app)
    await app.ctx.handoff.create_agent("alice", "Alice", PASSWORD)
    for _ in range(2):
        assert (await sign_in(client, "alice", "typo")).status == 401
    assert (await sign_in(client, "alice", PASSWORD)).status == 200
    for _ in range(2):
        assert (await sign_in(client, "alice", "typo")).status == 401
    assert (await sign_in(client, "alice", PASSWORD)).status == 200


def _run_web_app(tmp_path, port, **env):
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "HANDOFF_DATA_DIR": str(tmp_path / "var"),
            "RASA_TOKEN": "unused",
            "PORT": str(port),
            **env,
        },
    )


async def test_demo_mode_refuses_to_start_on_a_reachable_address(tmp_path, port):
    result = await asyncio.to_thread(
        _run_web_app, tmp_path, port, HANDOFF_DEMO="1", BOT_HOST="0.0.0.0"
    )
    assert result.returncode == 2
    assert "demo mode (agent demo/demo) only runs on a loopback address" in result.stderr
    assert not (tmp_path / "var" / "app.db").exists()  # refused before anything started


async def test_demo_mode_is_refused_by_the_server_itself_on_a_reachable_address(
    app_factory, desk_settings, port
):
    # Whatever starts the app (not only python -m bot): the start-up listener refuses.
    app = app_factory(replace(desk_settings, demo=True))
    server = await app.create_server(
        host="0.0.0.0", port=port, return_asyncio_server=True, access_log=False
    )
    with pytest.raises(ValueError, match="loopback"):
        await server.startup()
        await server.before_start()
    server.close()
    await server.wait_closed()


async def test_demo_mode_still_runs_on_loopback(app_factory, desk_settings, serve_desk):
    desk = await serve_desk(app_factory(replace(desk_settings, demo=True)))
    async with aiohttp.ClientSession() as http:
        async with http.post(
            desk.url + "/api/agent/login", json={"login": "demo", "password": "demo"}
        ) as response:
            assert response.status == 200


async def test_sign_out_ends_the_session_on_http_and_closes_its_sockets(live_desk):
    await live_desk.service.create_agent("alice", "Alice", PASSWORD)
    async with aiohttp.ClientSession() as http:

        async def call(method, path, token=None, body=None):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with http.request(
                method, live_desk.url + path, json=body, headers=headers
            ) as response:
                return response.status, await response.json()

        _, first = await call(
            "POST", "/api/agent/login", body={"login": "alice", "password": PASSWORD}
        )
        _, second = await call(
            "POST", "/api/agent/login", body={"login": "alice", "password": PASSWORD}
        )
        token, other = first["token"], second["token"]
        async with websockets.connect(live_desk.ws_url) as ws, websockets.connect(
            live_desk.ws_url
        ) as other_ws:
            await ws.send(json.dumps({"type": "hello", "token": token}))
            await other_ws.send(json.dumps({"type": "hello", "token": other}))
            assert json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))["type"] == "ready"
            assert json.loads(await asyncio.wait_for(other_ws.recv(), TIMEOUT))["type"] == "ready"
            assert await call("POST", "/api/agent/logout", token) == (200, {"signed_out": True})
            frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            assert frame == {
                "type": "error",
                "status": 401,
                "error": "you signed out: this session has ended",
            }
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            assert ws.close_code == 4401
            # The other sign-in (another browser) is untouched.
            await other_ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await asyncio.wait_for(other_ws.recv(), TIMEOUT)) == {"type": "pong"}
        status, body = await call("GET", "/api/agent/me", token)
        assert (status, body) == (401, {"error": "your session has ended, please sign in again"})
        assert (await call("GET", "/api/agent/me", other))[0] == 200
        # A new socket with the old token is refused too.
        async with websockets.connect(live_desk.ws_url) as ws:
            await ws.send(json.dumps({"type": "hello", "token": token}))
            frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            assert frame["status"] == 401 and "session has ended" in frame["error"]


async def test_a_new_password_ends_every_session_of_the_agent(app_factory):
    app = app_factory()
    client = await started(app)
    await app.ctx.handoff.create_agent("alice", "Alice", PASSWORD)
    tokens = [(await sign_in(client, "alice", PASSWORD)).json["token"] for _ in range(2)]
    await app.ctx.handoff.reset_password("alice", "a brand new secret")
    for token in tokens:
        _, response = await client.get(
            "/api/agent/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status == 401
    fresh = await sign_in(client, "alice", "a brand new secret")
    _, response = await client.get(
        "/api/agent/me", headers={"Authorization": f"Bearer {fresh.json['token']}"}
    )
    assert response.status == 200


async def test_a_token_without_a_session_is_refused(app_factory):
    from handoff.auth import issue_token

    app = app_factory()
    client = await started(app)
    agent = await app.ctx.handoff.create_agent("alice", "Alice", PASSWORD)
    sessionless = issue_token(
        agent.id, app.ctx.handoff_settings.secret_key, 600, app.ctx.handoff.now()
    )
    _, response = await client.get(
        "/api/agent/me", headers={"Authorization": f"Bearer {sessionless}"}
    )
    assert (response.status, response.json) == (401, {"error": "invalid session token"})


async def _agent_headers(app, client):
    await app.ctx.handoff.create_agent("alice", "Alice", PASSWORD)
    response = await sign_in(client, "alice", PASSWORD)
    return {"Authorization": f"Bearer {response.json['token']}"}


async def _assigned_chat(service, agent_login="alice"):
    agent = await service.get_agent_by_login(agent_login)
    await service.set_availability(agent.id, True)
    conv = await service.create_conversation()
    await service.add_message(conv.id, "customer", "Where is my parcel?")
    await service.enqueue(conv.id, "customer_request", {})
    await service.claim(conv.id, agent.id)
    return conv


@pytest.mark.parametrize("after", ["1" * 40, "\u00b2", "-1", "9223372036854775808"])
async def test_after_that_is_no_message_id_is_a_422(app_factory, after):
    app = app_factory()
    client = await started(app)
    headers = await _agent_headers(app, client)
    conv = await _assigned_chat(app.ctx.handoff)
    _, response = await client.get(
        f"/api/agent/conversations/{conv.id}/messages", params={"after": after}, headers=headers
    )
    assert (response.status, response.json) == (
        422,
        {"error": "after must be a whole number from 0 to 9223372036854775807"},
    )


async def test_a_ticket_id_too_large_for_the_database_is_a_404(app_factory):
    app = app_factory()
    client = await started(app)
    headers = await _agent_headers(app, client)
    _, response = await client.post(f"/api/agent/tickets/{'1' * 40}/done", headers=headers)
    assert (response.status, response.json) == (404, {"error": "no such ticket"})


@pytest.mark.parametrize(
    "raw, error",
    [
        (
            '{"text": "hello \\ud800"}',
            "the request body holds an invalid character (a lone surrogate)",
        ),
        (
            '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "the request body is nested too deeply",
        ),
        # Only zero-width and blank characters: nothing a customer could read.
        (
            json.dumps({"text": "\u200b\u200c\u200d\u2060\ufeff\u2800\u180e"}),
            "text must not be empty",
        ),
        (json.dumps({"text": " \u200b \u2800 "}), "text must not be empty"),
    ],
)
async def test_replies_that_cannot_be_stored_or_shown_are_a_422(app_factory, raw, error):
    app = app_factory()
    client = await started(app)
    headers = await _agent_headers(app, client)
    conv = await _assigned_chat(app.ctx.handoff)
    _, response = await client.post(
        f"/api/agent/conversations/{conv.id}/messages", content=raw.encode(), headers=headers
    )
    assert (response.status, response.json) == (422, {"error": error})
    texts = [m.text for m in await app.ctx.handoff.messages_since(conv.id)]
    assert texts == ["Where is my parcel?"]


async def test_a_login_name_with_a_lone_surrogate_is_a_422(app_factory):
    app = app_factory()
    client = await started(app)
    _, response = await client.post(
        "/api/agent/login", content=b'{"login": "al\\udfffice", "password": "x"}'
    )
    assert (response.status, response.json) == (
        422,
        {"error": "the request body holds an invalid character (a lone surrogate)"},
    )


@pytest.mark.parametrize("last_id", [10**30, -1, "12"])
async def test_desk_socket_answers_a_bad_last_message_id_with_an_error_frame(live_desk, last_id):
    agent = await live_desk.service.create_agent("alice", "Alice", PASSWORD)
    token = await live_desk.service.open_session(agent.id)
    async with websockets.connect(live_desk.ws_url) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token, "last_message_id": last_id}))
        frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        assert frame == {
            "type": "error",
            "status": 422,
            "error": "last_message_id must be a message id: a whole number from 0 to "
            "9223372036854775807",
        }
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert ws.close_code == 4422


@pytest.mark.parametrize(
    "text, reason",
    [("a\x00b", "a NUL character"), ("a\ud800b", "a lone surrogate"), ("\u2060\u180e", None)],
)
async def test_text_no_database_can_hold_or_show_is_refused_on_both_backends(service, text, reason):
    from handoff.service import InvalidInput

    conv = await service.create_conversation()
    expected = f"text holds an invalid character ({reason})" if reason else "text must not be empty"
    with pytest.raises(InvalidInput, match=expected.replace("(", r"\(").replace(")", r"\)")):
        await service.add_message(conv.id, "customer", text)
    assert await service.messages_since(conv.id) == []


async def test_expired_sessions_are_cleared_at_the_next_sign_in(make_service, sqlite_url, clock):
    from sqlalchemy import func, select

    from handoff.models import agent_sessions

    service = await make_service(sqlite_url, token_ttl_seconds=60)
    agent = await service.create_agent("alice", "Alice", PASSWORD)
    await service.open_session(agent.id)
    clock.advance(120)
    await service.open_session(agent.id)
    async with service.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(agent_sessions))).scalar() == 1
