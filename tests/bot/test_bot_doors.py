"""Doors of the customer side an attacker pushes on (issue 12, points 7-12): ticket
floods, the transcript relay, slow and greedy clients, unusable input, files."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import time

import pytest
from bot_support import wait_for

pytestmark = pytest.mark.asyncio
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u2800\u180e"
RESET = b"(connection reset)"


async def stored_texts(live, cid):
    return [m.text for m in await live.service.messages_since(cid, 0)]


# -- 7. offline tickets ----------------------------------------------------------------


async def test_repeated_offline_handoffs_keep_one_open_ticket(live, fake_rasa):
    cid, token, _ = await live.start_chat()
    for _ in range(6):  # nobody is online: each request is an offline handoff
        status, body, _ = await live.call("POST", f"/api/conversations/{cid}/handoff", token)
        assert status == 200 and body["handoff"]["outcome"] == "offline", body
    status, body, _ = await live.call(
        "POST",
        f"/api/conversations/{cid}/contact",
        token,
        json={"contact": "kim@example.org", "message": "call me"},
    )
    assert status == 201
    tickets = await live.service.list_tickets("open")
    assert [(t.conversation_id, t.contact, t.message) for t in tickets] == [
        (cid, "kim@example.org", "call me")
    ]
    assert body["ticket_id"] == tickets[0].id
    # Another chat still gets its own ticket.
    other, other_token, _ = await live.start_chat()
    await live.call("POST", f"/api/conversations/{other}/handoff", other_token)
    assert len(await live.service.list_tickets("open")) == 2


async def test_a_note_or_comment_that_is_not_text_is_refused_by_name_and_nothing_kept(live):
    cid, token, _ = await live.start_chat()
    await live.call("POST", f"/api/conversations/{cid}/handoff", token)  # nobody online
    status, body, _ = await live.call(
        "POST",
        f"/api/conversations/{cid}/contact",
        token,
        json={"contact": "kim@example.org", "message": ["call", "me"]},
    )
    assert (status, body["error"]) == (422, "message must be a string")
    assert [t.contact for t in await live.service.list_tickets("open")] == [None]
    await live.call("POST", f"/api/conversations/{cid}/close", token)
    path = f"/api/conversations/{cid}/csat"
    status, body, _ = await live.call("POST", path, token, json={"score": 4, "comment": 7})
    assert (status, body["error"]) == (422, "comment must be a string")
    # Nothing was recorded: the customer can still rate the chat.
    assert (await live.call("POST", path, token, json={"score": 4, "comment": None}))[0] == 201


async def test_a_ticket_marked_done_lets_a_new_request_open_a_new_one(live, fake_rasa):
    cid, token, _ = await live.start_chat()
    await live.call("POST", f"/api/conversations/{cid}/handoff", token)
    [first] = await live.service.list_tickets("open")
    agent = await live.service.create_agent("alice", "Alice", "correct horse battery")
    await live.service.mark_ticket_done(first.id, agent.id)
    await live.call("POST", f"/api/conversations/{cid}/handoff", token)
    [second] = await live.service.list_tickets("open")
    assert second.id != first.id


# -- 8. transcripts by e-mail ----------------------------------------------------------


async def _chat_with_contact(live, contact):
    cid, token, _ = await live.start_chat()
    await live.say(cid, token, "Where is my order?")
    if contact:
        status, _, _ = await live.call(
            "POST", f"/api/conversations/{cid}/contact", token, json={"contact": contact}
        )
        assert status == 201
    return cid, token


async def test_transcripts_go_only_to_an_address_left_in_that_chat(make_live, smtp):
    inbox, port = smtp
    live = await make_live(bot_overrides={"smtp_host": "127.0.0.1", "smtp_port": port})
    cid, token = await _chat_with_contact(live, "Kim Lee, kim@example.org, 555 0100")
    path = f"/api/conversations/{cid}/transcript"
    status, body, _ = await live.call("POST", path, token, json={"email": "victim@example.net"})
    assert status == 403 and "address you left in this chat" in body["error"]
    status, body, _ = await live.call("POST", path, token, json={"email": "KIM@example.org"})
    assert status == 202, body
    # A chat without contact details cannot mail anyone.
    bare, bare_token = await _chat_with_contact(live, None)
    status, body, _ = await live.call(
        "POST",
        f"/api/conversations/{bare}/transcript",
        bare_token,
        json={"email": "kim@example.org"},
    )
    assert status == 403
    await wait_for(lambda: _true(inbox.mails))
    await asyncio.sleep(0.2)
    assert [m.rcpt_tos for m in inbox.mails] == [["KIM@example.org"]]


@pytest.mark.parametrize("address", ["a@[127.0.0.1]", "a@127.0.0.1", "a@[IPv6:::1]"])
async def test_ip_literal_domains_are_refused(make_live, smtp, address):
    inbox, port = smtp
    live = await make_live(bot_overrides={"smtp_host": "127.0.0.1", "smtp_port": port})
    cid, token = await _chat_with_contact(live, address)
    status, body, _ = await live.call(
        "POST", f"/api/conversations/{cid}/transcript", token, json={"email": address}
    )
    assert (status, body) == (
        422,
        {"error": "please give one valid e-mail address (on a domain name)"},
    )
    assert inbox.mails == []


async def test_one_recipient_gets_a_limited_number_across_conversations(make_live, smtp):
    inbox, port = smtp
    live = await make_live(
        bot_overrides={"smtp_host": "127.0.0.1", "smtp_port": port, "transcripts_per_recipient": 2}
    )
    statuses = []
    for _ in range(3):
        cid, token = await _chat_with_contact(live, "kim@example.org")
        status, body, headers = await live.call(
            "POST", f"/api/conversations/{cid}/transcript", token, json={"email": "kim@example.org"}
        )
        statuses.append(status)
    assert statuses == [202, 202, 429]
    assert "to this address" in body["error"] and int(headers["Retry-After"]) > 0
    await wait_for(lambda: _true(len(inbox.mails) == 2))


async def _true(value):
    return bool(value)


# -- 9. slow and greedy clients --------------------------------------------------------


async def _open(live):
    return await asyncio.open_connection("127.0.0.1", live.port)


async def _read_all(reader, timeout=15):
    return await asyncio.wait_for(reader.read(), timeout)


async def _trickle(writer, first: bytes, piece, every: float, count: int) -> None:
    """Send ``first``, then ``piece(n)`` every ``every`` seconds, until the server hangs up."""
    writer.write(first)
    for n in range(count):
        await asyncio.sleep(every)
        if writer.is_closing():
            return
        try:
            writer.write(piece(n))
            await writer.drain()
        except ConnectionError:
            return


async def _answer_to_trickle(live, first: bytes, piece, every: float):
    reader, writer = await _open(live)
    began = time.monotonic()
    sender = asyncio.ensure_future(_trickle(writer, first, piece, every, 40))
    try:
        answer = await asyncio.wait_for(reader.read(), 15)
    except ConnectionResetError:
        # The server hung up while a line was on its way: TCP may then drop the 408.
        answer = RESET
    finally:
        sender.cancel()
        writer.close()
    return answer, time.monotonic() - began


async def test_a_header_sent_a_line_at_a_time_is_cut_off(make_live):
    live = await make_live(bot_overrides={"request_seconds": 2})
    # A line every 0.5 s: Sanic alone re-arms its timeout on each and waits for ever.
    answer, elapsed = await _answer_to_trickle(
        live, b"GET /api/conversations/x HTTP/1.1\r\n", lambda n: f"X-Slow-{n}: 1\r\n".encode(), 0.5
    )
    assert answer == RESET or answer.startswith(b"HTTP/1.1 408"), answer
    assert answer == RESET or b"took too long" in answer
    assert elapsed < 6, elapsed


async def test_a_body_sent_a_byte_at_a_time_is_cut_off(make_live):
    live = await make_live(bot_overrides={"request_seconds": 2})
    cid, token, _ = await live.start_chat()
    head = (
        f"POST /api/conversations/{cid}/messages HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        "Content-Length: 200\r\n\r\n"
    ).encode()
    answer, elapsed = await _answer_to_trickle(live, head, lambda n: b" ", 0.3)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"took too long" in answer
    assert elapsed < 6, elapsed
    assert await stored_texts(live, cid) == [await _disclosure(live, cid)]


async def _disclosure(live, cid):
    return (await live.service.messages_since(cid, 0))[0].text


async def test_a_normal_request_is_untouched_by_the_deadline(make_live):
    live = await make_live(bot_overrides={"request_seconds": 2})
    cid, token, _ = await live.start_chat()
    for _ in range(3):  # keep-alive connection, several requests over > 2 s
        await asyncio.sleep(0.8)
        status, _, _ = await live.call("GET", f"/api/conversations/{cid}", token)
        assert status == 200


async def test_connections_per_address_are_capped(make_live):
    live = await make_live(bot_overrides={"connections_per_address": 3})
    held = [await _open(live) for _ in range(3)]
    reader, writer = await _open(live)
    answer = await _read_all(reader)
    assert answer.startswith(b"HTTP/1.1 429"), answer
    assert b"too many connections from your address" in answer
    writer.close()
    for _, held_writer in held:
        held_writer.close()
    # Once they are closed, the address is welcome again.
    await asyncio.sleep(0.3)
    status, _, _ = await live.call("POST", "/api/conversations")
    assert status == 201


async def test_websockets_per_conversation_are_capped(make_live):
    live = await make_live(bot_overrides={"websockets_per_conversation": 2})
    cid, token, _ = await live.start_chat()
    url = f"{live.url.replace('http', 'ws')}/api/conversations/{cid}/ws"
    sockets = []
    for _ in range(2):
        ws = await live.http.ws_connect(url)
        await ws.send_json({"type": "hello", "token": token, "after": 0})
        assert (await ws.receive_json(timeout=20))["type"] == "ready"
        sockets.append(ws)
    extra = await live.http.ws_connect(url)
    await extra.send_json({"type": "hello", "token": token, "after": 0})
    frame = await extra.receive_json(timeout=20)
    assert frame["status"] == 429 and "too many open connections" in frame["error"]
    await extra.receive(timeout=20)
    assert extra.close_code == 4429
    await sockets[0].close()
    await asyncio.sleep(0.3)
    again = await live.http.ws_connect(url)
    await again.send_json({"type": "hello", "token": token, "after": 0})
    assert (await again.receive_json(timeout=20))["type"] == "ready"
    for ws in sockets[1:] + [again]:
        await ws.close()


async def test_behind_a_proxy_rate_limits_see_the_forwarded_address(make_live):
    async def start_from(live, address):
        async with live.http.post(
            live.url + "/api/conversations", headers={"X-Forwarded-For": address}
        ) as response:
            return response.status

    proxied = await make_live(
        bot_overrides={"proxies_count": 1, "address_conversations_per_minute": 2}
    )
    assert [await start_from(proxied, "203.0.113.7") for _ in range(3)] == [201, 201, 429]
    assert await start_from(proxied, "198.51.100.9") == 201  # another customer
    direct = await make_live(bot_overrides={"address_conversations_per_minute": 2})
    # Without a proxy the header is the client's own claim: ignored.
    statuses = [await start_from(direct, f"203.0.113.{n}") for n in range(3)]
    assert statuses == [201, 201, 429]


# -- 10, 11. input that cannot be stored or shown -----------------------------------------


@pytest.mark.parametrize("after", ["1" * 40, "\u00b2", "-1", "9223372036854775808"])
async def test_after_that_is_no_message_id_is_a_422(live, after):
    cid, token, _ = await live.start_chat()
    async with live.http.get(
        f"{live.url}/api/conversations/{cid}/messages",
        params={"after": after},
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 422
        assert await response.json() == {
            "error": "after must be a whole number from 0 to 9223372036854775807"
        }


@pytest.mark.parametrize(
    "raw, error",
    [
        (
            '{"text": "hi \\ud800 there"}',
            "the request body holds an invalid character (a lone surrogate)",
        ),
        (
            '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "the request body is nested too deeply",
        ),
        (
            '{"text": "nul \\u0000 inside"}',
            "the request body holds an invalid character (a NUL character)",
        ),
        (json.dumps({"text": INVISIBLE}), "the message is empty: write something first"),
        (
            json.dumps({"text": "\u200b \u200b\n\u2800"}),
            "the message is empty: write something first",
        ),
    ],
)
async def test_messages_that_cannot_be_stored_or_shown_are_a_422(live, fake_rasa, raw, error):
    cid, token, _ = await live.start_chat()
    before = await stored_texts(live, cid)
    async with live.http.post(
        f"{live.url}/api/conversations/{cid}/messages",
        data=raw.encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    ) as response:
        assert response.status == 422
        assert await response.json() == {"error": error}
    assert await stored_texts(live, cid) == before
    assert fake_rasa.webhook_texts() == []


async def test_invisible_characters_around_words_are_kept(live, fake_rasa):
    cid, token, _ = await live.start_chat()
    status, body, _ = await live.say(cid, token, "\u200bhello")
    assert status == 201 and body["message"]["text"] == "\u200bhello"


@pytest.mark.parametrize("after", [10**30, -5, "7"])
async def test_customer_socket_answers_a_bad_after_with_an_error_frame(live, after):
    cid, token, _ = await live.start_chat()
    url = f"{live.url.replace('http', 'ws')}/api/conversations/{cid}/ws"
    async with live.http.ws_connect(url) as ws:
        await ws.send_json({"type": "hello", "token": token, "after": after})
        frame = await ws.receive_json(timeout=20)
        assert frame == {
            "type": "error",
            "status": 422,
            "error": "after must be a message id: a whole number from 0 to 9223372036854775807",
        }
        await ws.receive(timeout=20)
        assert ws.close_code == 4422


async def test_a_deeply_nested_frame_is_refused_not_crashed_on(live):
    cid, token, _ = await live.start_chat()
    url = f"{live.url.replace('http', 'ws')}/api/conversations/{cid}/ws"
    async with live.http.ws_connect(url) as ws:
        await ws.send_str("[" * 100_000 + "]" * 100_000)
        frame = await ws.receive_json(timeout=20)
        assert frame["status"] == 401 and "first frame must be" in frame["error"]


# -- 12. files -------------------------------------------------------------------------


async def test_the_database_files_are_private(tmp_path, live):
    cid, token, _ = await live.start_chat()  # the database has been written to
    folder = tmp_path
    files = [p for p in folder.iterdir() if p.name.startswith("app.db")]
    assert files, list(folder.iterdir())
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


async def test_rasa_tracker_file_is_created_private_and_an_old_one_is_fixed(tmp_path):
    from tools.stack.runner import write_endpoints

    write_endpoints(5055, path=tmp_path / "endpoints.yml")
    assert stat.S_IMODE((tmp_path / "tracker.db").stat().st_mode) == 0o600
    old = tmp_path / "old"
    old.mkdir()
    (old / "tracker.db").write_bytes(b"")
    os.chmod(old / "tracker.db", 0o644)
    write_endpoints(5055, path=old / "endpoints.yml")
    assert stat.S_IMODE((old / "tracker.db").stat().st_mode) == 0o600


# -- settings ---------------------------------------------------------------------------


async def test_the_new_settings_are_read_from_the_environment():
    from bot.settings import BotSettings
    from handoff.settings import Settings

    bot = BotSettings.from_env(
        {
            "BOT_PROXIES_COUNT": "1",
            "BOT_REQUEST_SECONDS": "15",
            "BOT_CONNECTIONS_PER_ADDRESS": "0",
            "BOT_WEBSOCKETS_PER_CONVERSATION": "3",
            "BOT_TRANSCRIPTS_PER_RECIPIENT": "2",
        }
    )
    assert (
        bot.proxies_count,
        bot.request_seconds,
        bot.connections_per_address,
        bot.websockets_per_conversation,
        bot.transcripts_per_recipient,
    ) == (1, 15, 0, 3, 2)
    desk = Settings.from_env(
        {
            "HANDOFF_LOGIN_FAILURES": "5",
            "HANDOFF_LOGIN_FAILURES_ADDRESS": "20",
            "HANDOFF_LOGIN_WINDOW": "600",
            "HANDOFF_LOGIN_SLOWDOWN": "0.5",
        }
    )
    assert (
        desk.login_failures_per_login,
        desk.login_failures_per_address,
        desk.login_window_seconds,
        desk.login_slowdown_seconds,
    ) == (5, 20, 600, 0.5)
    with pytest.raises(ValueError, match="BOT_PROXIES_COUNT must be at least 0"):
        BotSettings.from_env({"BOT_PROXIES_COUNT": "-1"})
    with pytest.raises(ValueError, match="HANDOFF_LOGIN_SLOWDOWN must be a number of seconds"):
        Settings.from_env({"HANDOFF_LOGIN_SLOWDOWN": "soon"})


async def test_a_token_in_the_socket_url_is_not_accepted(live):
    # Tokens travel in the hello frame only: a URL lands in access logs.
    cid, token, _ = await live.start_chat()
    url = f"{live.url.replace('http', 'ws')}/api/conversations/{cid}/ws?token={token}"
    async with live.http.ws_connect(url) as ws:
        await ws.send_json({"type": "hello", "after": 0})
        frame = await ws.receive_json(timeout=20)
        assert frame["type"] == "error" and frame["status"] == 401
        await ws.receive(timeout=20)
        assert ws.close_code == 4401
