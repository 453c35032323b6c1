"""When a process fails, with the real processes: the action server killed (Rasa and the
web app up), the web app killed mid-answer and started again, a hand-back with Rasa down.

This module starts its own action server, Rasa and web app (it kills them), on free ports
in a temporary folder."""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import aiohttp
import pytest

from tests.e2e.conftest import Stack
from tools.benchmark.bench import RASA_TOKEN, start_stack
from tools.stack.runner import Service, wait_until_healthy

pytestmark = [pytest.mark.asyncio, pytest.mark.integration]
WAIT = 60


@dataclass
class Faulty(Stack):
    """The stack of this module, and how to break and mend it."""

    actions: Service
    rasa: Service
    web: Service
    envs: dict[str, dict[str, str]]

    def start(self, service: Service) -> None:
        service.start(self.envs[service.name])
        wait_until_healthy([service])

    @staticmethod
    def kill(service: Service) -> None:
        assert service.process is not None
        os.killpg(service.process.pid, signal.SIGKILL)
        service.process.wait()


@pytest.fixture(scope="module")
def faulty(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faulty]:
    """Its own action server, Rasa and web app (the way `make bench` starts them)."""
    parts = start_stack(tmp_path_factory.mktemp("faults"), trained_model)
    actions, rasa, web = services = parts["services"]
    envs = dict(zip((s.name for s in services), parts["envs"]))
    for service in services:
        service.start(envs[service.name])
    stack = Faulty(
        str(parts["url"]), str(parts["rasa_url"]), RASA_TOKEN, parts["db"], actions, rasa, web, envs
    )
    try:
        try:
            wait_until_healthy(services)
        except RuntimeError as problem:
            pytest.fail(f"the stack did not start: {problem}\n{rasa.log_tail()}")
        yield stack
    finally:
        for service in reversed(services):
            if service.exit_code() is None and service.process is not None:
                os.kill(service.process.pid, signal.SIGCONT)  # in case a test paused it
            service.stop()


async def call(
    http: aiohttp.ClientSession,
    stack: Stack,
    method: str,
    path: str,
    token: str | None = None,
    json: Any = None,
) -> tuple[int, Any]:
    # No keep-alive: see tests/scaled/scaled_support.py `call` (a pooled connection idle
    # while a piece restarts is closed by Sanic under the next request).
    headers = {"Connection": "close"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with http.request(
        method,
        stack.url + path,
        json=json,
        headers=headers,
        timeout=aiohttp.ClientTimeout(total=WAIT),
    ) as response:
        return response.status, await response.json(content_type=None)


async def online_agent(http: aiohttp.ClientSession, stack: Faulty) -> str:
    status, login = await call(
        http, stack, "POST", "/api/agent/login", json={"login": "demo", "password": "demo"}
    )
    assert status == 200, login
    status, _ = await call(
        http, stack, "POST", "/api/agent/status", login["token"], {"online": True}
    )
    assert status == 200
    return login["token"]


async def test_with_the_action_server_down_the_customer_is_told_and_can_still_reach_a_person(
    faulty: Faulty,
) -> None:
    faulty.kill(faulty.actions)
    try:
        async with aiohttp.ClientSession() as http:
            await online_agent(http, faulty)
            # A new chat during the outage opens honestly (today: no message at all).
            status, chat = await call(http, faulty, "POST", "/api/conversations")
            assert status == 201 and chat["assistant_unavailable"] is True, chat
            [opening] = chat["messages"]
            assert opening["author"] == "system" and "(a bot) is unavailable" in opening["text"]
            cid, token = chat["conversation_id"], chat["token"]
            path = f"/api/conversations/{cid}/messages"

            status, body = await call(
                http, faulty, "POST", path, token, {"text": "How do I send back a jacket?"}
            )
            assert status == 201 and body["assistant_unavailable"] is True, body
            [notice] = body["replies"]
            assert notice["author"] == "system" and "unavailable" in notice["text"]
            assert [b["action"] for b in notice["buttons"]] == ["handoff", "contact"]
            assert faulty.rows(cid)[-2][2] == "How do I send back a jacket?"  # kept

            # Typed, in words only Rasa's NLU knows mean "a person" (no keyword).
            status, body = await call(
                http, faulty, "POST", path, token, {"text": "let me chat with a live rep"}
            )
            assert status == 201 and body["handoff"]["outcome"] == "queued", body
            status, state = await call(http, faulty, "GET", f"/api/conversations/{cid}", token)
            assert state["state"] == "queued"

            # Another chat opened during the outage ...
            status, later = await call(http, faulty, "POST", "/api/conversations")
            assert status == 201 and later["assistant_unavailable"] is True
    finally:
        faulty.start(faulty.actions)
    # ... gets the disclosure and its answer once the actions are back (today: nothing).
    async with aiohttp.ClientSession() as http:
        cid, token = later["conversation_id"], later["token"]
        path = f"/api/conversations/{cid}/messages"
        status, body = await call(
            http, faulty, "POST", path, token, {"text": "how long does shipping take?"}
        )
        assert status == 201 and body["assistant_unavailable"] is False, body
        authors = [r["author"] for r in body["replies"]]
        assert authors[:2] == ["bot", "bot"], body
        assert "automated bot" in body["replies"][0]["text"]
        assert "business days" in body["replies"][1]["text"]
        status, body = await call(
            http, faulty, "POST", path, token, {"text": "which payment methods do you accept?"}
        )
        assert status == 201 and body["replies"][0]["author"] == "bot", body
        assert "Visa" in body["replies"][0]["text"]


async def wait_until(predicate, timeout: float = WAIT) -> None:
    for _ in range(int(timeout * 10)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


def request_waiting_at(url: str) -> bool:
    """True when bytes sent to ``url``'s port sit unread in a socket of its (stopped)
    server: the web app's request has reached the stopped Rasa. Read from the kernel's
    TCP tables (Linux), so the test waits for exactly that instead of a fixed pause."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            fields = row.split()
            local, state, queues = fields[1], fields[3], fields[4]
            established = state == "01"
            if established and int(local.rsplit(":", 1)[1], 16) == port:
                if int(queues.split(":")[1], 16) > 0:  # tx_queue:rx_queue, in hex
                    return True
    return False


async def test_a_question_the_web_app_died_on_gets_an_honest_notice_after_restart(
    faulty: Faulty,
) -> None:
    async with aiohttp.ClientSession() as http:
        status, chat = await call(http, faulty, "POST", "/api/conversations")
        assert status == 201 and chat["messages"][0]["author"] == "bot"
        cid, token = chat["conversation_id"], chat["token"]
        question = "what is the returns policy?"
        assert faulty.rasa.process is not None
        os.kill(faulty.rasa.process.pid, signal.SIGSTOP)  # Rasa is "thinking"
        try:
            asking = asyncio.ensure_future(
                call(
                    http,
                    faulty,
                    "POST",
                    f"/api/conversations/{cid}/messages",
                    token,
                    {"text": question},
                )
            )
            await wait_until(lambda: faulty.rows(cid)[-1][2] == question)
            await wait_until(lambda: request_waiting_at(faulty.rasa_url))
            faulty.kill(faulty.web)
            with pytest.raises(aiohttp.ClientError):
                await asking  # never acknowledged, but stored
        finally:
            os.kill(faulty.rasa.process.pid, signal.SIGCONT)
    assert faulty.rows(cid)[-1][1:] == ("customer", question)
    faulty.start(faulty.web)
    # Today nothing ever follows: the question stays unanswered for good.
    await wait_until(lambda: faulty.rows(cid)[-1][1] != "customer", timeout=30)
    after = faulty.rows(cid)[[r[2] for r in faulty.rows(cid)].index(question) + 1 :]
    first = after[0]
    # Rasa drops a request whose sender hung up before it was read: nothing to fetch,
    # so the customer is told the assistant missed it.
    assert first[1] == "system" and first[2].startswith(
        f'Sorry, the automated assistant missed your message "{question}"'
    ), after


async def rasa_answered(
    http: aiohttp.ClientSession, stack: Faulty, cid: str, question: str
) -> bool:
    """Rasa's tracker has a bot event after the customer's ``question``."""
    async with http.get(
        f"{stack.rasa_url}/conversations/{cid}/tracker", params={"token": stack.rasa_token}
    ) as response:
        events = (await response.json())["events"]
    asked = [i for i, e in enumerate(events) if e["event"] == "user" and e["text"] == question]
    return bool(asked) and any(e["event"] == "bot" for e in events[asked[-1] :])


async def test_an_answer_rasa_gave_while_the_web_app_died_is_delivered_after_restart(
    faulty: Faulty,
) -> None:
    async with aiohttp.ClientSession() as http:
        status, chat = await call(http, faulty, "POST", "/api/conversations")
        cid, token = chat["conversation_id"], chat["token"]
        question = "how long does delivery take?"
        rasa, web = faulty.rasa.process, faulty.web.process
        assert rasa is not None and web is not None
        os.kill(rasa.pid, signal.SIGSTOP)
        try:
            asking = asyncio.ensure_future(
                call(
                    http,
                    faulty,
                    "POST",
                    f"/api/conversations/{cid}/messages",
                    token,
                    {"text": question},
                )
            )
            await wait_until(lambda: faulty.rows(cid)[-1][2] == question)
            await wait_until(lambda: request_waiting_at(faulty.rasa_url))
            os.kill(web.pid, signal.SIGSTOP)  # the web app freezes before the answer ...
        finally:
            os.kill(rasa.pid, signal.SIGCONT)
        for _ in range(WAIT * 10):  # ... which Rasa gives and keeps in its tracker
            if await rasa_answered(http, faulty, cid, question):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("Rasa never answered")
        faulty.kill(faulty.web)  # ... and dies without storing it
        with pytest.raises(aiohttp.ClientError):
            await asking
    assert faulty.rows(cid)[-1][1:] == ("customer", question)
    faulty.start(faulty.web)
    # Today the question stays unanswered; now the answer comes from Rasa's tracker.
    await wait_until(lambda: faulty.rows(cid)[-1][1] != "customer", timeout=30)
    rows = faulty.rows(cid)
    after = rows[[r[2] for r in rows].index(question) + 1 :]
    assert after[0][1] == "bot" and "business days" in after[0][2], after
    assert not any("missed your message" in r[2] for r in after)


async def test_a_hand_back_while_rasa_is_down_does_not_say_the_assistant_is_back(
    faulty: Faulty,
) -> None:
    async with aiohttp.ClientSession() as http:
        agent = await online_agent(http, faulty)
        status, chat = await call(http, faulty, "POST", "/api/conversations")
        cid, token = chat["conversation_id"], chat["token"]
        status, body = await call(http, faulty, "POST", f"/api/conversations/{cid}/handoff", token)
        assert body["handoff"]["outcome"] == "queued", body
        status, _ = await call(http, faulty, "POST", f"/api/agent/conversations/{cid}/claim", agent)
        assert status == 200
        # Last in this module: Rasa stays down (a restart would cost half a minute).
        faulty.kill(faulty.rasa)
        status, _ = await call(
            http, faulty, "POST", f"/api/agent/conversations/{cid}/handback", agent
        )
        assert status == 200
        await wait_until(
            lambda: faulty.rows(cid)[-1][1] == "system" and "joined" not in faulty.rows(cid)[-1][2],
            timeout=30,
        )
        last = faulty.rows(cid)[-1][2]
        assert "The assistant is back." not in [r[2] for r in faulty.rows(cid)]
        assert "unavailable right now" in last and "talk to a person" in last
