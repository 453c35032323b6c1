"""Two real Rasa servers on one PostgreSQL tracker store with Rasa's Redis lock store,
behind a web worker with ``RASA_URLS``: one conversation's turns never interleave, and
when one server is killed the conversation goes on with the other."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import aiohttp
import pytest
from conftest import RASA_TOKEN, wait_healthy
from scaled_support import call, start_chat

from tools.stack.local_services import PostgresCluster, RedisService
from tools.stack.runner import Service, free_port, rasa_service, sandbox_web_env, web_service
from tools.stack.scaled import write_scaled_endpoints

pytestmark = pytest.mark.integration
QUESTIONS = [
    "how long does delivery take",
    "can I pay with paypal",
    "I forgot my password",
    "where is my parcel",
    "how do I send something back",
    "do you ship abroad",
]


@dataclass
class TwoRasas:
    rasas: list[Service]
    web: Service
    env: dict[str, str]

    @property
    def urls(self) -> list[str]:
        return [s.health_url.rstrip("/") for s in self.rasas]

    @property
    def base(self) -> str:
        return self.web.health_url.rsplit("/", 1)[0]


@pytest.fixture(scope="module")
def two_rasas(
    tmp_path_factory: pytest.TempPathFactory,
    trained_model: Path,
    action_server: str,
    postgres: PostgresCluster,
    redis: RedisService,
) -> Iterator[TwoRasas]:
    folder = tmp_path_factory.mktemp("rasas")
    action_port = int(action_server.rsplit(":", 1)[1].split("/")[0])
    tracker_db = postgres.create_database(f"r_{uuid.uuid4().hex[:10]}")
    endpoints = write_scaled_endpoints(
        action_port, tracker_db, redis.port, folder / "endpoints.yml"
    )
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    rasas = []
    for number in (1, 2):
        rasa = rasa_service(free_port(), endpoints, RASA_TOKEN, model=trained_model)
        rasa.name, rasa.log_path = f"Rasa server {number}", folder / f"rasa-{number}.log"
        rasa.start(env)
        wait_healthy(rasa, 300)  # one at a time: the first creates the tracker tables
        rasas.append(rasa)
    web = web_service(free_port())
    web.log_path = folder / "web.log"
    web_env = sandbox_web_env(env, folder, 0, RASA_TOKEN)
    web_env.update(
        {
            "DATABASE_URL": postgres.create_database(f"w_{uuid.uuid4().hex[:10]}"),
            "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
            "RASA_URLS": ",".join(s.health_url.rstrip("/") for s in rasas),
        }
    )
    web.start(web_env)
    wait_healthy(web)
    yield TwoRasas(rasas, web, env)
    for service in [web, *rasas]:
        service.stop()


def turns(events: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """(customer text, what followed until the next customer message) per turn."""
    found: list[tuple[str, list[str]]] = []
    for event in events:
        if event.get("event") == "user":
            found.append((event.get("text"), []))
        elif found and event.get("event") in ("action", "bot"):
            found[-1][1].append(event.get("name") or "bot")
    return found


async def whole_turns(
    http: aiohttp.ClientSession, rasa_url: str, sender: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """The customer's messages in the tracker, in order, and its events; fails unless every
    turn is whole (answered and back to listening before the next message starts)."""
    status, tracker, _ = await call(
        http, "GET", f"{rasa_url}/conversations/{sender}/tracker?token={RASA_TOKEN}"
    )
    assert status == 200, tracker
    seen = turns(tracker["events"])
    for text, after in seen:
        assert "bot" in after and after[-1] == "action_listen", (text, after)
    return [text for text, _ in seen], tracker["events"]


async def test_one_conversation_alternating_between_two_rasa_servers_keeps_every_turn(
    two_rasas: TwoRasas,
):
    # One message after the other, each to the other server, as a web worker sends them
    # (it serialises a conversation's messages): both servers read and write the one
    # tracker store, so every turn is there once, whole, in the order sent.
    sender = f"lock-{uuid.uuid4().hex[:8]}"
    async with aiohttp.ClientSession() as http:
        for i, text in enumerate(QUESTIONS):
            status, body, _ = await call(
                http,
                "POST",
                two_rasas.urls[i % 2] + "/webhooks/rest/webhook",
                body={"sender": sender, "message": text},
            )
            assert status == 200 and body, (text, body)
        said, _ = await whole_turns(http, two_rasas.urls[0], sender)
    assert said == QUESTIONS, "each message once, in order"


def exchanges(events: list[dict[str, Any]]) -> list[tuple[list[str], list[str]]]:
    """(customer texts, bot texts) per turn: everything from the end of the previous turn
    (its ``action_listen``) to this one's, so a new session's greeting belongs to the
    first turn, as it does in that message's reply."""
    found: list[tuple[list[str], list[str]]] = []
    said: list[str] = []
    answered: list[str] = []
    for event in events:
        if event.get("event") == "user":
            said.append(event.get("text"))
        elif event.get("event") == "bot":
            answered.append(event.get("text"))
        elif event.get("event") == "action" and event.get("name") == "action_listen" and said:
            found.append((said, answered))
            said, answered = [], []
    if said:
        found.append((said, answered))
    return found


async def test_simultaneous_messages_of_one_conversation_on_two_rasa_servers_take_turns(
    two_rasas: TwoRasas,
):
    # Every message of one conversation sent at the same moment, alternating servers, as
    # two web workers (or a client around them) could: the lock store makes the servers
    # take turns, so each message is kept once with its whole turn, and the replies each
    # server returned are the ones the tracker has right after that message. Five rounds,
    # each a new conversation, because one lucky round proves little.
    async with aiohttp.ClientSession() as http:
        for round_ in range(5):
            sender = f"lock-{round_}-{uuid.uuid4().hex[:8]}"
            sends = [
                call(
                    http,
                    "POST",
                    two_rasas.urls[i % 2] + "/webhooks/rest/webhook",
                    body={"sender": sender, "message": text},
                )
                for i, text in enumerate(QUESTIONS)
            ]
            answers = await asyncio.gather(*sends)
            assert all(status == 200 and body for status, body, _ in answers), answers
            said, events = await whole_turns(http, two_rasas.urls[0], sender)
            assert sorted(said) == sorted(QUESTIONS), "each message once"
            replied = {
                text: [reply.get("text") for reply in replies]
                for text, (_, replies, _) in zip(QUESTIONS, answers)
            }
            for texts, answered in exchanges(events):
                # One message per turn, and what its server replied is what the tracker
                # has for it: no turn ran on top of another.
                assert len(texts) == 1, texts
                assert answered == replied[texts[0]], texts


async def test_through_the_web_worker_turns_keep_the_order_the_customer_sent(
    two_rasas: TwoRasas,
):
    async with aiohttp.ClientSession() as http:
        cid, token = await start_chat(http, two_rasas.base)

        async def say(delay: float, text: str) -> int:
            await asyncio.sleep(delay)
            status, _, _ = await call(
                http,
                "POST",
                f"{two_rasas.base}/api/conversations/{cid}/messages",
                token,
                {"text": text},
            )
            return status

        statuses = await asyncio.gather(
            *(say(0.05 * i, text) for i, text in enumerate(QUESTIONS[:4]))
        )
        assert statuses == [201] * 4
        status, tracker, _ = await call(
            http,
            "GET",
            f"{two_rasas.urls[1]}/conversations/{cid}/tracker?token={RASA_TOKEN}",
        )
    assert [text for text, _ in turns(tracker["events"])] == QUESTIONS[:4]


async def chat_goes_on(http: aiohttp.ClientSession, base: str, cid: str, token: str) -> None:
    for text in QUESTIONS[:3]:
        status, body, _ = await call(
            http, "POST", f"{base}/api/conversations/{cid}/messages", token, {"text": text}
        )
        assert status == 201, body
        assert not body["assistant_unavailable"], body
        assert any(reply["author"] == "bot" for reply in body["replies"]), body


async def test_a_killed_rasa_server_is_skipped_and_used_again_once_back(two_rasas: TwoRasas):
    first, second = two_rasas.rasas
    async with aiohttp.ClientSession() as http:
        cid, token = await start_chat(http, two_rasas.base)
        assert first.process is not None
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait()
        await chat_goes_on(http, two_rasas.base, cid, token)

        # Back again: once its health probe sees it, it takes messages again, so the
        # conversation survives losing the other one.
        first.start(two_rasas.env)
        await asyncio.get_running_loop().run_in_executor(None, wait_healthy, first, 300)
        await asyncio.sleep(2.5)  # the web worker probes a failed server every second
        assert second.process is not None
        os.killpg(second.process.pid, signal.SIGKILL)
        second.process.wait()
        await chat_goes_on(http, two_rasas.base, cid, token)
