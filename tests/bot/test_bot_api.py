"""The customer API against a fake Rasa: what a customer's browser depends on."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from bot_support import DISCLOSURE, HANDOFF_REQUEST, online_agent, wait_for

from bot import tokens
from bot.router import NEUTRALISER
from handoff.events import CONVERSATION_ASSIGNED, Event

pytestmark = pytest.mark.asyncio


async def stored(live, cid):
    return await live.service.messages_since(cid, 0)


async def test_start_shows_the_disclosure_first_and_uses_rasas_token(live, fake_rasa):
    cid, token, body = await live.start_chat()
    assert body["messages"][0]["text"] == DISCLOSURE
    # The widget labels it in its own words: the frame says who, not how to call them.
    assert (body["messages"][0]["author"], body["messages"][0]["agent_name"]) == ("bot", None)
    assert [kind for kind, c, _ in fake_rasa.calls if c == cid] == ["events", "execute"]
    assert fake_rasa.executed() == ["action_session_start"]
    # The id is the service's (long, random); the token is bound to it.
    assert len(cid) >= 32 and tokens.conversation_of(token, live.app.ctx.bot_secret) == cid
    history = await stored(live, cid)
    assert [(m.author, m.text) for m in history] == [("bot", DISCLOSURE)]


async def test_tokens_forged_expired_or_foreign_are_refused(live):
    cid, token, _ = await live.start_chat()
    other, other_token, _ = await live.start_chat()
    path = f"/api/conversations/{cid}/messages"
    assert (await live.call("GET", path))[0] == 401
    status, body, _ = await live.call("GET", path, token[:-4] + "AAAA")
    assert (status, body["error"]) == (401, "invalid conversation token")
    forged = tokens.issue(cid, "not-the-secret-" + "z" * 40, 3600, dt.datetime.now(dt.timezone.utc))
    assert (await live.call("POST", path, forged, json={"text": "hi"}))[0] == 401
    expired = tokens.issue(
        cid, live.app.ctx.bot_secret, 60, dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)
    )
    status, body, _ = await live.call("GET", path, expired)
    assert status == 401 and "expired" in body["error"]
    status, body, _ = await live.call("POST", path, other_token, json={"text": "hi"})
    assert status == 403 and "another conversation" in body["error"]
    assert [m.author for m in await stored(live, cid)] == ["bot"]  # nothing was stored


async def test_bad_messages_get_clear_errors_and_store_nothing(live):
    cid, token, _ = await live.start_chat()
    path = f"/api/conversations/{cid}/messages"
    status, body, _ = await live.call("POST", path, token, json={"text": "   "})
    assert status == 422 and "empty" in body["error"]
    status, body, _ = await live.call("POST", path, token, json={"text": "x" * 2001})
    assert status == 413 and "2001 characters, the limit is 2000" in body["error"]
    status, body, _ = await live.call("POST", path, token, data=b"{not json")
    assert status == 422 and "valid JSON" in body["error"]
    status, body, _ = await live.call("POST", path, token, json={"text": 42})
    assert status == 422
    assert (await live.say(cid, token, "x" * 2000))[0] == 201  # the limit itself is fine
    # The echo of 2000 characters is longer than one message: split, never dropped.
    history = await stored(live, cid)
    assert [m.author for m in history] == ["bot", "customer", "bot", "bot"]
    assert "".join(m.text for m in history[2:]).count("x") == 2000


async def test_rate_limit_answers_429_with_retry_after(make_live):
    live = await make_live(bot_overrides={"conversation_messages_per_minute": 3})
    cid, token, _ = await live.start_chat()
    for n in range(3):
        assert (await live.say(cid, token, f"question {n}"))[0] == 201
    status, body, headers = await live.say(cid, token, "one too many")
    assert status == 429 and "too many" in body["error"]
    assert 1 <= int(headers["Retry-After"]) <= 60
    texts = [m.text for m in await stored(live, cid)]
    assert "one too many" not in texts


async def test_address_rate_limit_covers_new_chats(make_live):
    live = await make_live(bot_overrides={"address_conversations_per_minute": 2})
    await live.start_chat()
    await live.start_chat()
    status, body, headers = await live.call("POST", "/api/conversations")
    assert status == 429 and int(headers["Retry-After"]) >= 1


async def test_html_is_stored_and_returned_as_text(live):
    cid, token, _ = await live.start_chat()
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    status, body, _ = await live.say(cid, token, evil)
    assert body["message"]["text"] == evil
    status, body, _ = await live.call("GET", f"/api/conversations/{cid}/messages?after=0", token)
    assert evil in [m["text"] for m in body["messages"]]


async def test_slash_commands_reach_rasa_as_plain_text(live, fake_rasa):
    cid, token, _ = await live.start_chat()
    await live.say(cid, token, "/restart")
    await live.say(cid, token, '  /faq{"x": 1}')
    sent = fake_rasa.webhook_texts()
    assert sent == [NEUTRALISER + "/restart", NEUTRALISER + '/faq{"x": 1}']
    # What Rasa strips (whitespace) cannot bring the slash back to the front.
    assert not any(text.strip().startswith("/") for text in sent)
    # The customer's own words are stored exactly as typed.
    assert [m.text for m in await stored(live, cid) if m.author == "customer"] == [
        "/restart",
        '  /faq{"x": 1}',
    ]


async def test_handoff_payload_enqueues_with_context_and_is_never_shown(live, fake_rasa):
    await online_agent(live.service)
    cid, token, _ = await live.start_chat()
    status, body, _ = await live.say(cid, token, "this is useless")
    assert status == 201
    assert body["handoff"]["outcome"] == "queued" and body["handoff"]["position"] == 1
    detail = await live.service.conversation_detail(cid)
    assert detail.conversation.state == "queued"
    assert detail.handoff.reason == "frustration"
    assert detail.handoff.context["summary"] == HANDOFF_REQUEST["summary"]
    assert detail.handoff.context["frustration"] == {"score": 0.8, "cues": ["insult"]}
    texts = [m.text for m in detail.messages]
    assert not any("handoff" in t or "{" in t for t in texts)
    assert "number 1 in line" in texts[-1] or "next in line" in texts[-1]
    assert [r["author"] for r in body["replies"]] == ["bot", "system"]


async def test_the_bot_is_never_asked_while_queued_or_assigned(live, fake_rasa):
    agent = await online_agent(live.service)
    cid, token, _ = await live.start_chat()
    await live.say(cid, token, "this is useless")
    asked = len(fake_rasa.webhook_texts())
    status, body, _ = await live.say(cid, token, "hello? anyone?")
    assert status == 201 and body["replies"] == []
    await live.service.claim(cid, agent.id)
    status, body, _ = await live.say(cid, token, "hi Alice")
    assert status == 201 and body["replies"] == []
    status, body, _ = await live.call("POST", f"/api/conversations/{cid}/handoff", token)
    assert body["handoff"]["outcome"] == "assigned"
    assert len(fake_rasa.webhook_texts()) == asked
    assert fake_rasa.executed() == ["action_session_start"]  # no action_handoff either
    authors = [m.author for m in await stored(live, cid)]
    assert authors.count("bot") == 2  # the disclosure and "let me bring in a person"


async def test_rasa_down_tells_the_customer_and_loses_nothing(live, fake_rasa):
    cid, token, _ = await live.start_chat()
    fake_rasa.down = True
    status, body, _ = await live.say(cid, token, "Where is my parcel?")
    assert status == 201 and body["assistant_unavailable"] is True
    notice = body["replies"][0]
    assert notice["author"] == "system" and "unavailable" in notice["text"]
    assert [b.get("action") for b in notice["buttons"]] == ["handoff", "contact"]
    history = await stored(live, cid)
    assert [(m.author, m.text) for m in history][1] == ("customer", "Where is my parcel?")


async def test_rasa_unreachable_at_start_still_opens_an_honest_chat(live, fake_rasa):
    await fake_rasa.stop()
    cid, token, body = await live.start_chat()
    first = body["messages"][0]
    assert first["author"] == "system" and "(a bot) is unavailable" in first["text"]


async def test_talk_to_a_person_runs_action_handoff(live, fake_rasa):
    await online_agent(live.service)
    cid, token, _ = await live.start_chat()
    status, body, _ = await live.call("POST", f"/api/conversations/{cid}/handoff", token)
    assert status == 200 and body["handoff"]["outcome"] == "queued"
    # Rasa predicts nothing after an executed action: the gateway makes it listen again.
    assert fake_rasa.executed() == ["action_session_start", "action_handoff", "action_listen"]
    detail = await live.service.conversation_detail(cid)
    assert detail.handoff.reason == "customer_request"


async def test_talk_to_a_person_works_while_rasa_is_down(live, fake_rasa):
    await online_agent(live.service)
    cid, token, _ = await live.start_chat()
    await live.say(cid, token, "Where is my parcel?")
    fake_rasa.down = True
    status, body, _ = await live.call("POST", f"/api/conversations/{cid}/handoff", token)
    assert status == 200 and body["handoff"]["outcome"] == "queued"
    detail = await live.service.conversation_detail(cid)
    assert detail.handoff.reason == "customer_request"
    assert "Talk to a person" in detail.handoff.context["summary"]
    # The agent reads what was said from the stored messages (request version 2).
    said = [message.text for message in detail.messages]
    assert said[:2] == [DISCLOSURE, "Where is my parcel?"]
    assert detail.handoff.context["version"] == 2 and "transcript" not in detail.handoff.context


async def test_nobody_online_is_an_honest_offline_ticket(live, fake_rasa):
    cid, token, _ = await live.start_chat()
    status, body, _ = await live.call("POST", f"/api/conversations/{cid}/handoff", token)
    assert body["handoff"]["outcome"] == "offline"
    notice = body["replies"][-1]
    assert "No one from our team is available" in notice["text"]
    assert notice["buttons"][0]["action"] == "contact"
    status, body, _ = await live.call(
        "POST",
        f"/api/conversations/{cid}/contact",
        token,
        json={"contact": "sam@example.com", "message": "Call me"},
    )
    assert status == 201
    [ticket] = await live.service.list_tickets()
    assert (ticket.conversation_id, ticket.contact) == (cid, "sam@example.com")


async def test_customer_can_leave_the_queue(live):
    await online_agent(live.service)
    cid, token, _ = await live.start_chat()
    await live.say(cid, token, "this is useless")
    status, body, _ = await live.call("POST", f"/api/conversations/{cid}/cancel", token)
    assert (status, body["state"]) == (200, "bot")
    status, body, _ = await live.say(cid, token, "ok, what about returns?")
    assert body["replies"][0]["text"] == "Bot answer to: ok, what about returns?"


async def test_agent_join_and_hand_back_are_announced(live, fake_rasa):
    fake_rasa.actions["action_handback"] = (200, [{"text": "Welcome back! How can I help?"}])
    agent = await online_agent(live.service)
    cid, token, _ = await live.start_chat()
    await live.say(cid, token, "this is useless")
    await live.service.claim(cid, agent.id)

    async def texts():
        return [m.text for m in await stored(live, cid)]

    await wait_for(lambda: _has(texts, "Alice Moreno joined the chat."))
    await live.service.agent_reply(cid, agent.id, "Hi, Alice here. How can I help?")
    await live.service.hand_back(cid, agent.id)
    await wait_for(lambda: _has(texts, "Welcome back! How can I help?"))
    history = await stored(live, cid)
    tail = [(m.author, m.text) for m in history][-4:]
    assert tail == [
        ("system", "Alice Moreno joined the chat."),
        ("agent", "Hi, Alice here. How can I help?"),
        ("system", "The assistant is back."),
        ("bot", "Welcome back! How can I help?"),
    ]
    assert fake_rasa.executed()[-2:] == ["action_handback", "action_listen"]
    assert [t for t in await texts()].count("Alice Moreno joined the chat.") == 1


async def test_a_person_joining_without_a_name_is_announced_in_the_shop_files_words(live):
    agent = await online_agent(live.service)
    cid, token, _ = await live.start_chat()
    await live.say(cid, token, "this is useless")
    await live.service.claim(cid, agent.id)
    await wait_for(lambda: _has(lambda: texts_of(live, cid), "Alice Moreno joined the chat."))
    # An assignment event without a name (a desk that sent none) still says who came.
    await live.app.ctx.handoff_bus.publish(
        [Event(CONVERSATION_ASSIGNED, {"agent_id": agent.id, "agent_name": None}, cid)]
    )
    wanted = live.service.wording.say("agent_joined_unnamed")
    assert wanted == "A person from our team joined the chat."
    await wait_for(lambda: _has(lambda: texts_of(live, cid), wanted))


async def texts_of(live, cid):
    return [m.text for m in await stored(live, cid)]


async def _has(texts, wanted):
    return wanted in await texts()


async def test_hand_back_while_rasa_is_down_says_the_assistant_is_unavailable(live, fake_rasa):
    agent = await online_agent(live.service)
    cid, token, _ = await live.start_chat()
    await live.say(cid, token, "this is useless")
    await live.service.claim(cid, agent.id)
    fake_rasa.down = True
    await live.service.hand_back(cid, agent.id)

    async def last():
        history = await stored(live, cid)
        return history[-1].author == "system" and "unavailable" in history[-1].text

    await wait_for(last)
    history = await stored(live, cid)
    assert "action_handback" in fake_rasa.executed()  # tried, Rasa answered 500
    assert not any(m.text == "The assistant is back." for m in history)
    assert history[-1].text.startswith("This chat is back with our automated assistant")
    assert [b["action"] for b in history[-1].buttons] == ["handoff", "contact"]
    fake_rasa.down = False
    status, body, _ = await live.say(cid, token, "thanks")
    assert body["replies"][0]["author"] == "bot"  # the bot answers again


async def test_hand_back_with_a_silent_action_handback_says_the_assistant_is_unavailable(
    live, fake_rasa
):
    # The custom actions are down: Rasa runs action_handback and answers 200 with nothing.
    fake_rasa.actions["action_handback"] = (200, [])
    agent = await online_agent(live.service)
    cid, _, _ = await live.start_chat()
    await live.service.enqueue(cid, "customer_request")
    await live.service.claim(cid, agent.id)
    await live.service.hand_back(cid, agent.id)

    async def last():
        history = await stored(live, cid)
        return history[-1].author == "system" and "unavailable" in history[-1].text

    await wait_for(last)
    assert not any(m.text == "The assistant is back." for m in await stored(live, cid))


async def test_a_closed_chat_refuses_messages_and_stores_nothing(live, fake_rasa):
    cid, token, _ = await live.start_chat()
    await live.call("POST", f"/api/conversations/{cid}/close", token)
    before = await live.service.messages_since(cid, 0)
    status, body, _ = await live.say(cid, token, "hello again?")
    assert status == 409 and body["error"] == "this conversation is closed: start a new chat"
    assert await live.service.messages_since(cid, 0) == before
    assert "hello again?" not in fake_rasa.webhook_texts()


async def test_csat_is_recorded_once(live):
    cid, token, _ = await live.start_chat()
    await live.call("POST", f"/api/conversations/{cid}/close", token)
    path = f"/api/conversations/{cid}/csat"
    assert (await live.call("POST", path, token, json={"score": 6}))[0] == 422
    assert (await live.call("POST", path, token, json={"score": 5}))[0] == 201
    status, body, _ = await live.call("POST", path, token, json={"score": 1})
    assert status == 409 and "already" in body["error"]
    assert (await live.say(cid, token, "hello?"))[0] == 409  # closed chats take no messages


async def test_transcript_email_reaches_a_real_smtp_server(make_live, fake_rasa):
    from aiosmtpd.controller import Controller
    from bot_support import Inbox, free_port

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        live = await make_live(bot_overrides={"smtp_host": "127.0.0.1", "smtp_port": port})
        cid, token, body = await live.start_chat()
        assert body["features"]["transcript_email"] is True
        await live.say(cid, token, "Where is my order? <b>now</b>")
        await live.call(
            "POST", f"/api/conversations/{cid}/contact", token, json={"contact": "Sam@Example.com"}
        )
        await live.call("POST", f"/api/conversations/{cid}/close", token)
        path = f"/api/conversations/{cid}/transcript"
        bad = await live.call("POST", path, token, json={"email": "a@b.c\nBcc: x@y.z"})
        assert bad[0] == 422
        status, body, _ = await live.call("POST", path, token, json={"email": "sam@example.com"})
        assert status == 202, body
        await wait_for(_async_true(lambda: inbox.mails))
    finally:
        controller.stop()
    [mail] = inbox.mails
    assert mail.rcpt_tos == ["sam@example.com"]
    text = mail.content.decode()
    assert "Content-Type: text/plain" in text
    assert "Assistant (bot):" in text and "You:" in text
    assert "Where is my order? <b>now</b>" in text
    # Sender and subject come from shop.yml's shop section (no SMTP_SENDER given).
    assert mail.mail_from == "help@larkspur.example"
    assert "Subject: Your chat with Larkspur & Co." in text


def _async_true(check):
    async def predicate():
        return bool(check())

    return predicate


async def test_transcript_without_smtp_is_a_clear_503(live):
    cid, token, body = await live.start_chat()
    assert body["features"]["transcript_email"] is False
    status, body, _ = await live.call(
        "POST", f"/api/conversations/{cid}/transcript", token, json={"email": "sam@example.com"}
    )
    assert status == 503 and "not set up" in body["error"]


async def test_websocket_catches_up_then_pushes_live(live, fake_rasa):
    agent = await online_agent(live.service)
    cid, token, _ = await live.start_chat()
    await live.say(cid, token, "first question")
    history = await stored(live, cid)
    seen_id = history[0].id  # the disclosure: the socket must send what came after
    ws_url = f"{live.url.replace('http', 'ws')}/api/conversations/{cid}/ws"
    async with live.http.ws_connect(ws_url) as ws:
        await ws.send_json({"type": "hello", "token": token, "after": seen_id})
        ready = await ws.receive_json(timeout=20)
        assert (ready["type"], ready["state"]) == ("ready", "bot")
        caught = [await ws.receive_json(timeout=20) for _ in range(2)]
        assert [f["message"]["text"] for f in caught] == [
            "first question",
            "Bot answer to: first question",
        ]
        await live.say(cid, token, "this is useless")
        frames = []
        while not any(f["type"] == "queue" for f in frames):
            frames.append(await ws.receive_json(timeout=20))
        await live.service.claim(cid, agent.id)
        while not any(f["type"] == "agent_joined" for f in frames):
            frames.append(await ws.receive_json(timeout=20))
        joined = [f for f in frames if f["type"] == "agent_joined"][0]
        assert joined["agent_name"] == "Alice Moreno"
        ids = [f["message"]["id"] for f in caught + frames if f["type"] == "message"]
        assert ids == sorted(ids) and len(ids) == len(set(ids))


async def test_websocket_refuses_a_forged_token(live):
    cid, token, _ = await live.start_chat()
    ws_url = f"{live.url.replace('http', 'ws')}/api/conversations/{cid}/ws"
    async with live.http.ws_connect(ws_url) as ws:
        await ws.send_json({"type": "hello", "token": token + "x", "after": 0})
        frame = await ws.receive_json(timeout=20)
        assert frame["type"] == "error" and frame["status"] == 401
        closing = await ws.receive(timeout=20)
        assert ws.close_code == 4401 or closing.data == 4401


async def test_concurrent_messages_each_get_their_answer_right_after_them(live):
    cid, token, _ = await live.start_chat()
    texts = [f"question {n}" for n in range(6)]
    results = await asyncio.gather(*(live.say(cid, token, text) for text in texts))
    assert all(status == 201 for status, _, _ in results)
    history = [(m.author, m.text) for m in await stored(live, cid)][1:]
    pairs = list(zip(history[::2], history[1::2]))
    assert len(pairs) == len(texts)
    for (author, text), (bot_author, answer) in pairs:
        assert (author, bot_author, answer) == ("customer", "bot", f"Bot answer to: {text}")


async def test_websocket_tells_the_customer_when_the_chat_is_closed(live):
    cid, token, _ = await live.start_chat()
    ws_url = f"{live.url.replace('http', 'ws')}/api/conversations/{cid}/ws"
    async with live.http.ws_connect(ws_url) as ws:
        await ws.send_json({"type": "hello", "token": token, "after": 10**9})
        assert (await ws.receive_json(timeout=20))["type"] == "ready"
        await live.service.close(cid)
        frame = await ws.receive_json(timeout=20)
        assert frame == {"type": "closed", "closed_by": "customer", "state": "closed"}
        await ws.send_json({"type": "ping"})
        assert (await ws.receive_json(timeout=20)) == {"type": "pong"}


async def test_one_unusable_bot_reply_does_not_cost_the_others(live, fake_rasa):
    cid, token, _ = await live.start_chat()
    oversized = [{"title": f"option {n}", "payload": "x" * 100} for n in range(100)]
    fake_rasa.reply = lambda text: [
        {"text": "Here is the answer."},
        {"text": "Pick one:", "buttons": oversized},
        {"text": "Anything else?"},
    ]
    status, body, _ = await live.say(cid, token, "returns?")
    assert status == 201
    assert [r["text"] for r in body["replies"]] == ["Here is the answer.", "Anything else?"]
    stored = [m.text for m in await live.service.messages_since(cid, 0)]
    assert stored[-3:] == ["returns?", "Here is the answer.", "Anything else?"]


async def test_the_widget_gets_the_message_limit_from_the_server(make_live):
    live = await make_live(bot_overrides={"max_message_chars": 300})
    cid, token, body = await live.start_chat()
    assert body["limits"] == {"max_message_chars": 300}
    status, body, _ = await live.call("GET", f"/api/conversations/{cid}", token)
    assert status == 200 and body["limits"] == {"max_message_chars": 300}


async def test_websocket_answers_an_unknown_frame_and_stays_open(live):
    cid, token, _ = await live.start_chat()
    ws_url = f"{live.url.replace('http', 'ws')}/api/conversations/{cid}/ws"
    async with live.http.ws_connect(ws_url) as ws:
        await ws.send_json({"type": "hello", "token": token, "after": 10**9})
        assert (await ws.receive_json(timeout=20))["type"] == "ready"
        await ws.send_json({"type": "message", "text": "over the socket"})
        assert (await ws.receive_json(timeout=20)) == {
            "type": "error",
            "status": 422,
            "error": 'unknown frame: send messages over HTTP, or {"type": "ping"} '
            'or {"type": "typing"}',
        }
        await ws.send_json({"type": "ping"})
        assert (await ws.receive_json(timeout=20)) == {"type": "pong"}
