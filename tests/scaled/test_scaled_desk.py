"""The team desk with two web workers (real processes on one PostgreSQL and one Redis):
typing, "seen", private notes, presence, support hours edited in the desk and the e-mail
continuation behave as with one worker, whichever worker each side is connected to."""

from __future__ import annotations

import asyncio
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any, Iterator

import aiohttp
import pytest
from conftest import Workers, start_workers, wait_healthy
from scaled_support import Socket, agent_login, call, eventually, start_chat

from handoff.messages import load_messages
from tests.bot.bot_support import Inbox
from tests.helpers import ROOT, hours_answer
from tools.stack.local_services import PostgresCluster, RedisService
from tools.stack.runner import ALWAYS_OPEN_HOURS, free_port

pytestmark = pytest.mark.integration

MAIL_AFTER_S = 1.0


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server (aiosmtpd) on a free port: ``(inbox, port)``."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def desk_workers(
    tmp_path_factory: pytest.TempPathFactory,
    postgres: PostgresCluster,
    redis: RedisService,
    smtp: tuple[Inbox, int],
) -> Iterator[Workers]:
    """Two workers that auto-assign and mail replies to customers who left."""
    extra = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp[1]),
        "BOT_EMAIL_AFTER": str(MAIL_AFTER_S),
        "HANDOFF_AUTO_ASSIGN": "1",
    }
    folder: Path = tmp_path_factory.mktemp("desk-workers")
    yield from start_workers(folder, postgres, redis, extra)


async def handoff(http: aiohttp.ClientSession, base: str, token: str, cid: str) -> dict[str, Any]:
    status, body, _ = await call(http, "POST", f"{base}/api/conversations/{cid}/handoff", token)
    assert status == 200, body
    return dict(body["handoff"])


async def set_online(http: aiohttp.ClientSession, base: str, agent: str, online: bool) -> None:
    status, body, _ = await call(
        http, "POST", base + "/api/agent/status", agent, {"online": online}
    )
    assert status == 200, body


async def owned_chat(
    http: aiohttp.ClientSession, workers: Workers, agent: str, contact: str | None = None
) -> tuple[str, str]:
    """A customer's chat started on worker A, handed off and owned by the agent."""
    cid, token = await start_chat(http, workers.a)
    if contact:
        status, body, _ = await call(
            http,
            "POST",
            f"{workers.a}/api/conversations/{cid}/contact",
            token,
            {"contact": contact},
        )
        assert status == 201, body
    outcome = (await handoff(http, workers.a, token, cid))["outcome"]
    if outcome != "assigned":  # another test's chat may hold the slot for a moment
        status, body, _ = await call(
            http, "POST", f"{workers.b}/api/agent/conversations/{cid}/claim", agent
        )
        assert status == 200, body
    return cid, token


async def reply(http: aiohttp.ClientSession, base: str, agent: str, cid: str, text: str) -> int:
    status, body, _ = await call(
        http, "POST", f"{base}/api/agent/conversations/{cid}/messages", agent, {"text": text}
    )
    assert status == 201, body
    return int(body["message"]["id"])


async def close_chat(http: aiohttp.ClientSession, base: str, agent: str, cid: str) -> None:
    status, body, _ = await call(http, "POST", f"{base}/api/agent/conversations/{cid}/close", agent)
    assert status == 200, body


async def test_typing_seen_and_notes_cross_workers_and_notes_never_reach_the_customer(
    desk_workers: Workers,
):
    workers = desk_workers
    async with aiohttp.ClientSession() as http:
        agent = await agent_login(http, workers.b)
        cid, token = await owned_chat(http, workers, agent)
        desk_b = await Socket.desk(http, workers.b, agent).open()
        desk_a = await Socket.desk(http, workers.a, agent).open()
        # The customer has the chat open twice: one tab on each worker.
        customer_a = await Socket.customer(http, workers.a, cid, token).open()
        customer_b = await Socket.customer(http, workers.b, cid, token).open()
        try:
            # The agent types on B: the customer's tab on A sees "Demo Agent is typing".
            await desk_b.send({"type": "typing", "conversation_id": cid})
            typing = await eventually(lambda: _true(customer_a.of_type("typing")))
            assert typing[0]["name"] == "Demo Agent"
            # The customer types on A: the agent's desk on B sees it.
            await customer_a.send({"type": "typing"})
            await eventually(
                lambda: _true(
                    [
                        f
                        for f in desk_b.of_type("conversation.typing")
                        if f["data"]["who"] == "customer" and f["data"]["conversation_id"] == cid
                    ]
                )
            )
            # A customer message sent through B, read by the agent on B: "seen" on A.
            status, body, _ = await call(
                http,
                "POST",
                f"{workers.b}/api/conversations/{cid}/messages",
                token,
                {"text": "Any news about the parcel?"},
            )
            assert status == 201, body
            said = await eventually(lambda: _true(customer_a.texts("customer")))
            last = max(m["id"] for m in customer_a.messages() if m["author"] == "customer")
            await desk_b.send({"type": "seen", "conversation_id": cid, "message_id": last})
            seen = await eventually(lambda: _true(customer_a.of_type("seen")))
            assert seen[-1]["message_id"] == last and said == ["Any news about the parcel?"]
            # A private note written on B reaches the desk on A, and no customer socket.
            secret = "Private: customer asked twice already, offer a refund"
            status, body, _ = await call(
                http,
                "POST",
                f"{workers.b}/api/agent/conversations/{cid}/notes",
                agent,
                {"text": secret},
            )
            assert status == 201, body
            await eventually(lambda: _true(desk_a.of_type("note.created")))
            # Something published after the note reaches both customer tabs first, so the
            # note had every chance to arrive before we look.
            await reply(http, workers.a, agent, cid, "Checking with the courier now.")
            for tab in (customer_a, customer_b):
                await eventually(
                    lambda tab=tab: _true("Checking with the courier now." in tab.texts())
                )
                assert secret not in str(tab.frames)
                assert not [f for f in tab.frames if "note" in str(f.get("type", ""))]
        finally:
            for socket in (customer_a, customer_b, desk_a, desk_b):
                await socket.close()
            await close_chat(http, workers.b, agent, cid)


async def test_away_on_one_worker_stops_auto_assignment_on_the_other(desk_workers: Workers):
    workers = desk_workers
    async with aiohttp.ClientSession() as http:
        agent = await agent_login(http, workers.a)  # online, on A
        cid, token = await start_chat(http, workers.b)
        assert (await handoff(http, workers.b, token, cid))["outcome"] == "assigned"
        await close_chat(http, workers.b, agent, cid)
        # Idle on A: the desk turns Away. B sees it and gives the next chat to nobody.
        await set_online(http, workers.a, agent, False)
        status, body, _ = await call(http, "GET", workers.b + "/api/agent/colleagues", agent)
        assert status == 200, body
        [me] = [a for a in body["agents"] if a["name"] == "Demo Agent"]
        assert me["presence"] == "away"
        other, other_token = await start_chat(http, workers.b)
        outcome = (await handoff(http, workers.b, other_token, other))["outcome"]
        assert outcome != "assigned"
        await asyncio.sleep(3)  # housekeeping on both workers runs auto-assignment meanwhile
        status, body, _ = await call(
            http, "GET", f"{workers.a}/api/agent/conversations/{other}", agent
        )
        assert status == 200 and body["conversation"]["state"] != "assigned", body
        # Back to Online on B: the waiting chat goes to them (if it was queued).
        await set_online(http, workers.b, agent, True)
        if outcome == "queued":
            await eventually(lambda: _state_is(http, workers.a, agent, other, "assigned"))
            await close_chat(http, workers.a, agent, other)


async def test_support_hours_edited_on_one_worker_apply_on_the_other(
    desk_workers: Workers, monkeypatch: pytest.MonkeyPatch
):
    workers = desk_workers
    closed = {
        "timezone": "Europe/London",
        "weekly": {day: "closed" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        "holidays": [],
    }
    closed_sentence = load_messages(ROOT / "shop.yml").say("hours_none")
    async with aiohttp.ClientSession() as http:
        agent = await agent_login(http, workers.a)  # the demo agent is an admin
        try:
            status, body, _ = await call(
                http, "PUT", workers.a + "/api/admin/hours", agent, {"support_hours": closed}
            )
            assert status == 200 and body["source"] == "desk", body
            assert body["summary"] == closed_sentence

            async def offline_on_b() -> str | None:
                cid, token = await start_chat(http, workers.b)
                result = await handoff(http, workers.b, token, cid)
                if result["outcome"] == "assigned":  # still open: free the agent for the next try
                    await close_chat(http, workers.b, agent, cid)
                return result["message"] if result["outcome"] == "offline" else None

            # B, which never saw the request, is closed too (at once: one event away), and
            # tells the customer the new hours, as does the assistant asking B for them.
            notice = await eventually(offline_on_b, timeout=5)
            assert notice.endswith(f"Our support hours: {closed_sentence}.")
            monkeypatch.setenv("WEB_APP_URL", workers.b)
            assert f"People are available {closed_sentence}." in await hours_answer()
        finally:
            status, body, _ = await call(http, "DELETE", workers.b + "/api/admin/hours", agent)
            assert status == 200 and body["source"] == "file", body

        # Reset on B: A is open around the clock again, as its shop file says.
        async def open_on_a() -> bool:
            cid, token = await start_chat(http, workers.a)
            outcome = (await handoff(http, workers.a, token, cid))["outcome"]
            if outcome == "assigned":
                await close_chat(http, workers.a, agent, cid)
            return outcome != "offline"

        await eventually(open_on_a, timeout=5)
        monkeypatch.setenv("WEB_APP_URL", workers.a)
        assert f"People are available {ALWAYS_OPEN_HOURS['summary']}." in await hours_answer()


async def test_a_reply_stored_on_one_worker_is_not_mailed_while_the_customer_is_on_the_other(
    desk_workers: Workers, smtp: tuple[Inbox, int]
):
    workers, (inbox, _) = desk_workers, smtp
    async with aiohttp.ClientSession() as http:
        agent = await agent_login(http, workers.a)
        cid, token = await owned_chat(http, workers, agent, "Robin, robin.mail@example.net")
        customer_b = await Socket.customer(http, workers.b, cid, token).open()
        await reply(http, workers.a, agent, cid, "Seen live on the other worker.")
        await eventually(lambda: _true("Seen live on the other worker." in customer_b.texts()))
        await asyncio.sleep(MAIL_AFTER_S + 1.5)
        assert _mails_to(inbox, "robin.mail@example.net") == []
        # The customer leaves; two replies, one stored on each worker: mailed once each.
        await customer_b.close()
        await reply(http, workers.a, agent, cid, "Your parcel was found at the depot.")
        await reply(http, workers.b, agent, cid, "It goes out again tomorrow morning.")
        await eventually(lambda: _true(_mails_to(inbox, "robin.mail@example.net")))
        await asyncio.sleep(MAIL_AFTER_S + 1.5)  # the other worker's check has run too
        bodies = [_body(m) for m in _mails_to(inbox, "robin.mail@example.net")]
        new = "\n".join(b.partition("The chat so far:")[0] for b in bodies)
        assert new.count("Your parcel was found at the depot.") == 1
        assert new.count("It goes out again tomorrow morning.") == 1
        assert "Seen live on the other worker." not in new
        # A restart of worker A forgets nothing: a later reply mails only itself.
        service = workers.services[0]
        service.stop()
        service.start(workers.env)
        wait_healthy(service)
        before = len(bodies)
        async with aiohttp.ClientSession() as fresh:  # the old connections died with A
            await reply(fresh, workers.a, agent, cid, "Tracking number: 99 1234 5678.")
        await eventually(lambda: _true(len(_mails_to(inbox, "robin.mail@example.net")) > before))
        await asyncio.sleep(MAIL_AFTER_S + 1.5)
        later = [_body(m) for m in _mails_to(inbox, "robin.mail@example.net")][before:]
        [fresh] = [b.partition("The chat so far:")[0] for b in later]
        assert "Tracking number: 99 1234 5678." in fresh
        assert "Your parcel was found" not in fresh and "It goes out again" not in fresh
        await close_chat(http, workers.b, agent, cid)


def _mails_to(inbox: Inbox, address: str) -> list[Any]:
    return [m for m in inbox.mails if address in m.rcpt_tos]


def _body(mail: Any) -> str:
    return str(message_from_bytes(mail.content, policy=default).get_content())


async def _state_is(http: aiohttp.ClientSession, base: str, agent: str, cid: str, state: str):
    status, body, _ = await call(http, "GET", f"{base}/api/agent/conversations/{cid}", agent)
    return status == 200 and body["conversation"]["state"] == state


async def _true(value: object) -> object:
    return value
