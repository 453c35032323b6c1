"""Desk load figures: `python -m tools.benchmark.bench_desk [--conversations N]`.

Fills a fresh database (a temporary SQLite file unless ``--database-url`` names an empty
PostgreSQL database) with closed conversations of ten messages each, some labelled and
routed to teams, plus a few waiting chats; serves the desk on a free 127.0.0.1 port and
times, over real HTTP with a signed-in agent, what an agent waits for: the queue, one
thread (the conversation with its messages) and a search of the messages. Prints
percentiles and a machine-readable last line; the issue's goals are queue and thread
under 100 ms and search under 200 ms at p95 with 10,000 conversations / 100,000 messages.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import aiohttp
from sqlalchemy import insert

from handoff import db
from handoff.app import create_app
from handoff.hours import ALWAYS_OPEN
from handoff.models import conversation_labels, conversations, handoffs, labels, messages, teams
from handoff.settings import Settings
from tools.stack.in_process import InProcessServer
from tools.stack.runner import free_port

WORDS = (
    "parcel refund late order tracking size colour jacket shoes return label courier "
    "invoice payment card declined password account address delivery damaged exchange "
    "discount voucher basket checkout warehouse Monday weekend gift wrap receipt"
).split()
PASSWORD = "bench password"
GOALS_MS = {"queue": 100.0, "thread": 100.0, "search": 200.0}


def sentence(rng: random.Random) -> str:
    """A customer-like line of 6-14 words."""
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize() + "."


async def seed(engine: object, count: int, rng: random.Random) -> tuple[str, int]:
    """``count`` closed conversations x 10 messages, 20 waiting ones; (a thread id, messages)."""
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    async with engine.begin() as conn:  # type: ignore[attr-defined]
        label_ids = [
            (
                await conn.execute(insert(labels).values(name=n, created_at=start))
            ).inserted_primary_key[0]
            for n in ("vip", "refund", "bug", "press")
        ]
        team_ids = [
            (
                await conn.execute(insert(teams).values(name=n, created_at=start))
            ).inserted_primary_key[0]
            for n in ("Payments", "Returns")
        ]
        total = 0
        for first in range(0, count + 20, 1000):
            convs, msgs, hand, tags = [], [], [], []
            for i in range(first, min(first + 1000, count + 20)):
                cid = f"bench-{i:07d}"
                at = start + dt.timedelta(minutes=i)
                waiting = i >= count
                convs.append(
                    {
                        "id": cid,
                        "state": "queued" if waiting else "closed",
                        "agent_id": None,
                        "created_at": at,
                        "updated_at": at,
                        "closed_at": None if waiting else at,
                    }
                )
                for n in range(10):
                    author = "customer" if n % 2 == 0 else "bot"
                    msgs.append(
                        {
                            "conversation_id": cid,
                            "author": author,
                            "text": sentence(rng),
                            "created_at": at + dt.timedelta(seconds=n),
                        }
                    )
                hand.append(
                    {
                        "conversation_id": cid,
                        "reason": "customer_request",
                        "context": {"summary": "Bench chat."},
                        "offline": False,
                        "queued_at": at,
                        "closed_at": None if waiting else at,
                        "outcome": None if waiting else "closed",
                        "team_id": rng.choice(team_ids + [None]),
                    }
                )
                if i % 7 == 0:
                    tags.append(
                        {
                            "conversation_id": cid,
                            "label_id": rng.choice(label_ids),
                            "created_at": at,
                        }
                    )
            await conn.execute(insert(conversations), convs)
            await conn.execute(insert(messages), msgs)
            await conn.execute(insert(handoffs), hand)
            if tags:
                await conn.execute(insert(conversation_labels), tags)
            total += len(msgs)
    return f"bench-{count // 2:07d}", total


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p95) in milliseconds."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


async def measure(
    url: str, thread_id: str, rounds: int, rng: random.Random
) -> dict[str, list[float]]:
    """Time each desk request ``rounds`` times over HTTP (after one warm-up each)."""
    times: dict[str, list[float]] = {"queue": [], "thread": [], "search": []}
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{url}/api/agent/login", json={"login": "bench", "password": PASSWORD}
        ) as r:
            token = (await r.json())["token"]
        headers = {"Authorization": f"Bearer {token}"}
        paths = {
            "queue": lambda: "/api/agent/queue",
            "thread": lambda: f"/api/agent/history/{thread_id}",
            "search": lambda: "/api/agent/search?q=" + "+".join(rng.sample(WORDS, 2)),
        }
        for warm_up in (True, False):
            for _ in range(1 if warm_up else rounds):
                for name, path in paths.items():
                    began = time.perf_counter()
                    async with http.get(url + path(), headers=headers) as response:
                        await response.read()
                        assert response.status == 200, (name, response.status)
                    if not warm_up:
                        times[name].append((time.perf_counter() - began) * 1000)
    return times


async def run(args: argparse.Namespace) -> int:
    folder = Path(tempfile.mkdtemp(prefix="bench-desk-"))
    url = args.database_url or f"sqlite:///{folder / 'desk.db'}"
    settings = replace(
        Settings.from_env({"HANDOFF_DATA_DIR": str(folder), "DATABASE_URL": url}),
        auto_assign=False,
    )
    engine = db.create_engine(url)
    await db.upgrade(engine)
    rng = random.Random(15)
    began = time.perf_counter()
    thread_id, total = await seed(engine, args.conversations, rng)
    await db.close_engine(engine)
    took = time.perf_counter() - began
    backend = url.split(":")[0]
    seeded = f"{args.conversations} closed conversations, {total} messages"
    print(f"seeded {seeded} in {took:.1f} s ({backend})")
    app = create_app(settings, name="bench_desk", hours=ALWAYS_OPEN, background=False)
    server = InProcessServer(app, free_port())
    await server.start()
    try:
        await app.ctx.handoff.create_agent("bench", "Bench Agent", PASSWORD)
        times = await measure(server.url, thread_id, args.rounds, rng)
    finally:
        await server.stop()
    line = []
    for name, samples in times.items():
        p50, p95 = percentiles(samples)
        verdict = "ok" if p95 < GOALS_MS[name] else "OVER GOAL"
        goal = f"goal p95 < {GOALS_MS[name]:.0f} ms: {verdict}"
        print(f"{name:7} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({goal})")
        line.append(f"desk_{name}_p95_ms={p95:.0f}")
    print(" ".join(line))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.benchmark.bench_desk", description=__doc__
    )
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument(
        "--database-url", help="an empty database (default: a temporary SQLite file)"
    )
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
