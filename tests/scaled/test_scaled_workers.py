"""Two web workers (real processes) on one PostgreSQL database and one Redis: what one
worker does reaches the other's sockets live; limits and claims hold across both; a
Redis restart loses nothing acknowledged."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import aiohttp
import psycopg2
import pytest
from conftest import Workers, restart_redis
from scaled_support import Socket, agent_login, call, eventually, start_chat

from tools.stack.runner import free_port

pytestmark = pytest.mark.integration


def stored_texts(database_url: str, cid: str) -> list[tuple[int, str, str]]:
    """(id, author, text) of the conversation's stored messages, in id order."""
    with psycopg2.connect(database_url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT id, author, text FROM messages WHERE conversation_id = %s ORDER BY id", (cid,)
        )
        return list(cursor.fetchall())


def owner(database_url: str, cid: str) -> tuple[str, int | None]:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT state, agent_id FROM conversations WHERE id = %s", (cid,))
        state, agent_id = cursor.fetchone()
        return state, agent_id


def agent_login_of(database_url: str, agent_id: int | None) -> str:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT login FROM agents WHERE id = %s", (agent_id,))
        return str(cursor.fetchone()[0])


async def assigned_chat(
    http: aiohttp.ClientSession, workers: Workers, agent: str
) -> tuple[str, str]:
    """A customer on worker A whose chat the agent took on worker B."""
    cid, token = await start_chat(http, workers.a)
    status, body, _ = await call(
        http, "POST", f"{workers.a}/api/conversations/{cid}/handoff", token
    )
    assert status == 200 and body["handoff"]["outcome"] == "queued", body
    status, body, _ = await call(
        http, "POST", f"{workers.b}/api/agent/conversations/{cid}/claim", agent
    )
    assert status == 200, body
    return cid, token


async def test_customer_on_one_worker_and_agent_on_the_other_talk_live_in_order_once(
    workers: Workers,
):
    async with aiohttp.ClientSession() as http:
        agent = await agent_login(http, workers.b)
        desk = await Socket.desk(http, workers.b, agent).open()
        cid, token = await start_chat(http, workers.a)
        customer = await Socket.customer(http, workers.a, cid, token).open()
        status, body, _ = await call(
            http, "POST", f"{workers.a}/api/conversations/{cid}/handoff", token
        )
        assert body["handoff"]["outcome"] == "queued"
        # The desk on B hears of a chat queued on A.
        await eventually(
            lambda: _true(
                any(
                    f["data"].get("conversation_id") == cid
                    for f in desk.of_type("conversation.queued")
                )
            )
        )
        status, _, _ = await call(
            http, "POST", f"{workers.b}/api/agent/conversations/{cid}/claim", agent
        )
        assert status == 200
        await eventually(lambda: _true(customer.of_type("agent_joined")))

        said_by_agent, said_by_customer = [], []
        for turn in range(5):
            text = f"agent line {turn}"
            status, _, _ = await call(
                http,
                "POST",
                f"{workers.b}/api/agent/conversations/{cid}/messages",
                agent,
                {"text": text},
            )
            assert status == 201
            said_by_agent.append(text)
            text = f"customer line {turn}"
            status, _, _ = await call(
                http, "POST", f"{workers.a}/api/conversations/{cid}/messages", token, {"text": text}
            )
            assert status == 201
            said_by_customer.append(text)

        await eventually(lambda: _true(customer.texts("agent") == said_by_agent))
        await eventually(
            lambda: _true(
                [
                    m["text"]
                    for m in desk.messages()
                    if m["conversation_id"] == cid and m["author"] == "customer"
                ]
                == said_by_customer
            )
        )
        await asyncio.sleep(0.5)  # a duplicate would arrive by now
        assert customer.texts("agent") == said_by_agent
        ids = [m["id"] for m in customer.messages()]
        assert ids == sorted(set(ids)), "in order, each once"
        desk_ids = [m["id"] for m in desk.messages() if m["conversation_id"] == cid]
        assert desk_ids == sorted(set(desk_ids))
        await customer.close()
        await desk.close()


async def test_queue_position_on_one_worker_moves_when_a_chat_on_the_other_is_claimed(
    workers: Workers,
):
    async with aiohttp.ClientSession() as http:
        agent = await agent_login(http, workers.a)
        first, first_token = await start_chat(http, workers.a)
        await call(http, "POST", f"{workers.a}/api/conversations/{first}/handoff", first_token)
        second, second_token = await start_chat(http, workers.b)
        _, body, _ = await call(
            http, "POST", f"{workers.b}/api/conversations/{second}/handoff", second_token
        )
        before = body["handoff"]["position"]
        assert before >= 2
        watcher = await Socket.customer(http, workers.b, second, second_token).open()
        status, _, _ = await call(
            http, "POST", f"{workers.a}/api/agent/conversations/{first}/claim", agent
        )
        assert status == 200
        await eventually(
            lambda: _true(any(f["position"] == before - 1 for f in watcher.of_type("queue")))
        )
        await watcher.close()


def add_agent(workers: Workers, login: str) -> None:
    """An agent created with the desk's CLI in the workers' database."""
    env = {**os.environ, "DATABASE_URL": workers.database_url}
    subprocess.run(
        [sys.executable, "-m", "handoff.cli", "add", login, "--name", login, "--password-stdin"],
        input="claimer-password-1\n",
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


async def test_fifty_concurrent_claims_over_both_workers_leave_one_owner(workers: Workers):
    logins = [f"claimer{i}" for i in range(5)]
    for login in logins:
        add_agent(workers, login)
    async with aiohttp.ClientSession() as http:
        tokens = [
            await agent_login(http, (workers.a, workers.b)[i % 2], login, "claimer-password-1")
            for i, login in enumerate(logins)
        ]
        cid, token = await start_chat(http, workers.a)
        await call(http, "POST", f"{workers.a}/api/conversations/{cid}/handoff", token)
        who = [i % len(logins) for i in range(50)]
        claims = [
            call(
                http,
                "POST",
                f"{(workers.a, workers.b)[i % 2]}/api/agent/conversations/{cid}/claim",
                tokens[who[i]],
            )
            for i in range(50)
        ]
        answers = await asyncio.gather(*claims)
        statuses = [status for status, _, _ in answers]
        assert all(s in (200, 409) for s in statuses), statuses
        winners = {logins[who[i]] for i, status in enumerate(statuses) if status == 200}
        state, agent_id = owner(workers.database_url, cid)
        assert state == "assigned"
        # Only the owner was ever told "yours" (a repeat by the owner may be told so too).
        assert len(winners) == 1, statuses
        assert agent_login_of(workers.database_url, agent_id) in winners


async def test_rate_limits_are_shared_by_the_workers(workers: Workers):
    async with aiohttp.ClientSession() as http:
        cid, token = await start_chat(http, workers.a)
        # Queued: messages wait for a person (no Rasa involved); the handoff counts too.
        await call(http, "POST", f"{workers.a}/api/conversations/{cid}/handoff", token)
        statuses, waits = [], []
        for i in range(24):
            base = (workers.a, workers.b)[i % 2]
            status, _, headers = await call(
                http, "POST", f"{base}/api/conversations/{cid}/messages", token, {"text": f"m{i}"}
            )
            statuses.append(status)
            if status == 429:
                waits.append(int(headers["Retry-After"]))
        # 20 a minute per chat, counted once for both workers (each alone would allow 20).
        assert statuses == [201] * 19 + [429] * 5
        assert all(1 <= wait <= 60 for wait in waits)

        login_statuses = []
        for i in range(12):
            base = (workers.a, workers.b)[i % 2]
            status, _, headers = await call(
                http, "POST", base + "/api/agent/login", body={"login": "mallory", "password": "x"}
            )
            login_statuses.append(status)
        # 10 failures per login name within the window, whichever worker counted them.
        assert login_statuses == [401] * 10 + [429] * 2


async def test_a_redis_restart_mid_conversation_loses_no_acknowledged_message(
    workers: Workers, redis
):
    async with aiohttp.ClientSession() as http:
        agent = await agent_login(http, workers.b)
        cid, token = await assigned_chat(http, workers, agent)
        customer = await Socket.customer(http, workers.a, cid, token).open()
        desk = await Socket.desk(http, workers.b, agent).open()
        acknowledged: dict[str, list[str]] = {"customer": [], "agent": []}

        sides = (
            ("customer", f"{workers.a}/api/conversations/{cid}/messages", token),
            ("agent", f"{workers.b}/api/agent/conversations/{cid}/messages", agent),
        )

        async def exchange(label: str) -> None:
            for turn in range(3):
                for author, url, who in sides:
                    text = f"{label} from the {author} {turn}"
                    status, _, _ = await call(http, "POST", url, who, {"text": text})
                    if status == 201:
                        acknowledged[author].append(text)

        await exchange("before")
        await asyncio.get_running_loop().run_in_executor(None, redis.stop)
        await exchange("during")
        await asyncio.get_running_loop().run_in_executor(None, restart_redis, redis)
        await exchange("after")
        # Every message was acknowledged: the database is the truth, Redis only notifies.
        assert len(acknowledged["customer"]) == 9 and len(acknowledged["agent"]) == 9

        def seen_by_agent() -> list[str]:
            return [
                m["text"]
                for m in desk.messages()
                if m["conversation_id"] == cid and m["author"] == "customer"
            ]

        try:
            await eventually(lambda: _true(customer.texts("agent") == acknowledged["agent"]), 30)
            await eventually(lambda: _true(seen_by_agent() == acknowledged["customer"]), 30)
        except AssertionError:
            pytest.fail(
                f"acknowledged {acknowledged}; the customer saw {customer.texts('agent')} "
                f"({customer.connects} connections), the agent saw {seen_by_agent()} "
                f"({desk.connects} connections)"
            )
        stored = stored_texts(workers.database_url, cid)
        for author in ("customer", "agent"):
            texts = [text for _, who, text in stored if who == author]
            assert texts == acknowledged[author], "stored once each, in order"
        await customer.close()
        await desk.close()


def test_redis_down_at_start_is_a_clear_error_naming_redis_url(tmp_path, workers: Workers):
    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "HANDOFF_DATA_DIR": str(tmp_path),
    }
    run = subprocess.run(
        [sys.executable, "-m", "bot", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "REDIS_URL=" in run.stderr + run.stdout
    assert "cannot reach Redis" in run.stderr + run.stdout


async def _true(value: object) -> object:
    return value
