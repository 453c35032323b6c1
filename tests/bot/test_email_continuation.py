"""When the customer left, an agent's reply goes by e-mail to the address they left, with
the chat quoted, and the chat says so; while they are connected, nothing is mailed."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from email import message_from_bytes
from email.policy import default

import pytest
from bot_support import free_port, online_agent, wait_for

pytestmark = pytest.mark.asyncio


async def handed_over(live, contact, login="alice"):
    alice = await online_agent(live.service, login, login.title())
    cid, token, _ = await live.start_chat()
    await live.say(cid, token, "My order 5521 never came")
    if contact:
        status, _, _ = await live.call(
            "POST", f"/api/conversations/{cid}/contact", token, json={"contact": contact}
        )
        assert status == 201
    await live.say(cid, token, "this is useless")  # the fake Rasa hands off
    await live.service.claim(cid, alice.id)
    return cid, token, alice


async def widget(live, cid, token):
    ws = await live.http.ws_connect(f"{live.url.replace('http', 'ws')}/api/conversations/{cid}/ws")
    await ws.send_json({"type": "hello", "token": token})
    assert (await ws.receive_json(timeout=20))["type"] == "ready"
    return ws


async def test_a_reply_after_the_customer_left_goes_by_email(make_live, smtp):
    inbox, port = smtp
    live = await make_live(
        bot_overrides={"smtp_host": "127.0.0.1", "smtp_port": port, "email_after_seconds": 0.3}
    )
    cid, token, alice = await handed_over(live, "Sam, sam@example.com")
    ws = await widget(live, cid, token)
    await live.service.agent_reply(cid, alice.id, "Looking into it now.")
    await asyncio.sleep(0.8)
    assert inbox.mails == []  # the customer is connected: they saw it live
    await ws.close()  # the customer closes the page
    await wait_for(lambda: _no_sockets(live, cid))
    await live.service.agent_reply(cid, alice.id, "Found it: the courier lost it.")
    await live.service.agent_reply(cid, alice.id, "A new parcel leaves today.")

    async def mailed():
        return bool(inbox.mails)

    await wait_for(mailed)
    await asyncio.sleep(0.5)
    [mail] = inbox.mails
    assert mail.rcpt_tos == ["sam@example.com"]
    body = message_from_bytes(mail.content, policy=default).get_content()
    new, _, quoted = body.partition("The chat so far:")
    assert "Found it: the courier lost it." in new and "A new parcel leaves today." in new
    # The earlier chat is quoted, with the reply the customer saw live (not sent again).
    assert "> My order 5521 never came" in quoted and "> Looking into it now." in quoted
    assert "Looking into it now." not in new
    stored = await live.service.messages_since(cid)
    assert stored[-1].author == "system"
    assert stored[-1].text == (
        "The customer had left the chat: the 2 replies were sent by e-mail to sam@example.com."
    )


async def _no_sockets(live, cid):
    return live.app.ctx.widgets.here(cid) == 0


async def test_no_address_no_mail_and_a_failed_mail_is_said_in_the_chat(make_live, smtp):
    inbox, port = smtp
    live = await make_live(
        bot_overrides={"smtp_host": "127.0.0.1", "smtp_port": port, "email_after_seconds": 0.2}
    )
    cid, _, alice = await handed_over(live, "call me on 555 0100")  # no e-mail address
    await live.service.agent_reply(cid, alice.id, "Hello?")
    await asyncio.sleep(0.6)
    assert inbox.mails == []
    stored = await live.service.messages_since(cid)
    assert "Hello?" in [m.text for m in stored]
    assert not any("e-mail" in m.text for m in stored if m.author == "system")
    # An SMTP server that is down: the agent is told in the chat, nothing is lost.
    dead = await make_live(
        bot_overrides={
            "smtp_host": "127.0.0.1",
            "smtp_port": free_port(),
            "email_after_seconds": 0.2,
        }
    )
    other, _, bob = await handed_over(dead, "kim@example.org", "bob")
    await dead.service.agent_reply(other, bob.id, "Your refund is on its way.")

    async def told():
        last = (await dead.service.messages_since(other))[-1]
        return last.author == "system" and "failed" in last.text

    await wait_for(told)
    texts = [m.text for m in await dead.service.messages_since(other)]
    assert "Your refund is on its way." in texts
    assert "e-mailing the reply to kim@example.org failed" in texts[-1]


async def test_after_a_restart_only_replies_since_the_customers_last_message_go(make_live, smtp):
    from bot.continuation import EmailContinuation
    from bot.widgets import ConnectedWidgets

    inbox, port = smtp
    live = await make_live(
        bot_overrides={"smtp_host": "127.0.0.1", "smtp_port": port, "email_after_seconds": 0}
    )  # 0: the app's own continuation is off; this test drives a fresh one by hand
    cid, _, alice = await handed_over(live, "sam@example.com")
    await live.service.agent_reply(cid, alice.id, "An old answer the customer replied to.")
    await live.service.add_customer_message(cid, "Thanks, one more thing: the colour?")
    await live.service.agent_reply(cid, alice.id, "It comes in navy and sand.")
    settings = live.app.ctx.bot_settings
    fresh = EmailContinuation(
        live.app.ctx.handoff_bus,
        live.service,
        replace(settings, email_after_seconds=1),
        ConnectedWidgets(),
    )
    assert await fresh.check(cid) == "sam@example.com"
    [mail] = inbox.mails
    body = message_from_bytes(mail.content, policy=default).get_content()
    new, _, quoted = body.partition("The chat so far:")
    assert "It comes in navy and sand." in new
    assert "An old answer" not in new and "> An old answer" in quoted
    assert await fresh.check(cid) is None  # nothing new: nothing sent twice
    assert len(inbox.mails) == 1


async def test_two_workers_checking_one_chat_at_once_mail_it_once(make_live, smtp):
    from bot.continuation import EmailContinuation
    from bot.widgets import ConnectedWidgets

    inbox, port = smtp
    live = await make_live(
        bot_overrides={"smtp_host": "127.0.0.1", "smtp_port": port, "email_after_seconds": 0}
    )  # 0: the app's own continuation is off; two fresh ones play two workers
    cid, _, alice = await handed_over(live, "lee@example.com")
    await live.service.agent_reply(cid, alice.id, "The replacement is in the post.")
    settings = replace(live.app.ctx.bot_settings, email_after_seconds=1)
    first, second = (
        EmailContinuation(live.app.ctx.handoff_bus, live.service, settings, ConnectedWidgets())
        for _ in range(2)
    )
    found = await asyncio.gather(first.check(cid), second.check(cid))
    assert sorted(found, key=str) == [None, "lee@example.com"]
    assert len(inbox.mails) == 1
    # The mark is in the database: a third (a restarted worker) sends nothing again.
    third = EmailContinuation(live.app.ctx.handoff_bus, live.service, settings, ConnectedWidgets())
    assert await third.check(cid) is None and len(inbox.mails) == 1
    recorded = [m for m in await live.service.messages_since(cid) if "e-mail" in m.text]
    assert len(recorded) == 1
