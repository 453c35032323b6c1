"""Kill each process once under a light load: `python -m tools.benchmark.chaos [--quick]`.

Starts the action server, Rasa and the web app on free 127.0.0.1 ports in a temporary
folder, under the same supervisor as `make run` (``tools.stack.supervisor``), while a few
simulated customers keep asking FAQ questions through the web app's API. Then it kills
(SIGKILL) the action server, the Rasa server and the web app, one after the other, each
once the stack serves everyone again, and reports for each process:

- recovery: seconds from the kill until a customer's question sent after the kill was
  answered by the assistant again;
- lost: messages the web app acknowledged (201) that are not in the database;
- without notice: customers with a stored message that got nothing after it, neither an
  answer nor an honest notice (checked in the database once the stack has settled);
- refused: requests that failed outright (the web app was down; the customer sees it);
- agent chat: requests of a customer and an agent talking (through the desk API) that
  failed: a chat with a person needs neither Rasa nor the action server.

``--scaled`` (``make chaos SCALED=1``) runs the scaled stack of `make run-scaled`
instead: Redis, PostgreSQL, two web workers, two Rasa servers sharing the tracker store,
one action server. The customers are spread over both workers and, like behind a load
balancer, move to the other worker when theirs refuses the connection; each process
(Redis included) is killed once.

The last line is machine-readable, e.g. ``recovery_s_max=3.2 lost=0 without_notice=0``.
The exit status is 1 if a message was lost or a customer left without a notice.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tools.benchmark.bench import start_stack
from tools.benchmark.bench_sim import FAQ, call
from tools.stack.runner import MODEL, Service, wait_until_healthy
from tools.stack.scaled import ScaledStack, sandbox, stored_messages
from tools.stack.supervisor import Supervisor

GOAL_RECOVERY_S = 5.0
# The customers of the load test share one address: no rate limit may get in the way,
# nor the cap of connections per address (each customer holds a websocket).
UNLIMITED = {
    "BOT_RATE_CONVERSATION": "100000",
    "BOT_RATE_ADDRESS": "100000",
    "BOT_RATE_NEW_CONVERSATIONS": "100000",
    "BOT_CONNECTIONS_PER_ADDRESS": "0",
}
now = time.monotonic


@dataclass
class Answer:
    """One customer message as the customer saw it."""

    conversation_id: str
    sent_at: float
    status: int  # 0: no answer at all (connection refused or cut)
    answered_at: float
    message_id: int | None = None  # set when acknowledged (201)
    by_bot: bool = False  # the assistant answered it
    notice: bool = False  # an honest "unavailable / busy" notice instead


@dataclass
class Kill:
    """One process killed, and what it cost."""

    name: str
    at: float
    recovered_at: float | None = None
    refused: int = 0
    agent_failures: int = 0
    lost: int = 0
    without_notice: int = 0

    @property
    def recovery_s(self) -> float | None:
        return None if self.recovered_at is None else self.recovered_at - self.at


@dataclass
class Load:
    """Customers asking questions until stopped; every answer is recorded."""

    base: str
    customers: int
    think_s: float
    # Other web workers (scaled run): a customer whose worker refuses moves on to the next.
    others: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    conversations: set[str] = field(default_factory=set)
    agent_answers: list[Answer] = field(default_factory=list)
    running: bool = True

    async def run(self) -> None:
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(
                self._agent_chat(http),
                *(self._customer(http, index) for index in range(self.customers)),
            )

    def worker(self, index: int) -> str:
        """The web worker a customer (``index``) uses now."""
        bases = [self.base, *self.others]
        return bases[index % len(bases)]

    async def _agent_chat(self, http: aiohttp.ClientSession) -> None:
        """A customer and the demo agent writing to each other, turn about."""
        status, login = await call(
            http, "POST", f"{self.base}/api/agent/login", body={"login": "demo", "password": "demo"}
        )
        if status != 200:
            raise RuntimeError(f"agent login failed: {status} {login}")
        agent = login["token"]
        await call(http, "POST", f"{self.base}/api/agent/status", agent, {"online": True})
        status, chat = await call(http, "POST", f"{self.base}/api/conversations")
        cid, token = chat["conversation_id"], chat["token"]
        status, body = await call(
            http, "POST", f"{self.base}/api/conversations/{cid}/handoff", token
        )
        desk = f"{self.base}/api/agent/conversations/{cid}"
        status, claimed = await call(http, "POST", desk + "/claim", agent)
        if status != 200:
            raise RuntimeError(f"the agent could not take the chat: {status} {claimed}")
        turn = 0
        while self.running:
            turn += 1
            for url, who, text in (
                (f"{self.base}/api/conversations/{cid}/messages", token, f"customer {turn}"),
                (desk + "/messages", agent, f"agent {turn}"),
            ):
                sent = now()
                status, body = await call(http, "POST", url, who, {"text": text}, timeout_s=40)
                answer = Answer(cid, sent, status, now())
                stored = body.get("message") if isinstance(body, dict) else None
                if status == 201 and isinstance(stored, dict):
                    answer.message_id = stored.get("id")
                self.agent_answers.append(answer)
            await asyncio.sleep(self.think_s)

    async def _customer(self, http: aiohttp.ClientSession, index: int) -> None:
        await asyncio.sleep(index * self.think_s / self.customers)  # spread the arrivals
        chat: tuple[str, str] | None = None
        turn = index
        worker = index
        while self.running:
            base = self.worker(worker)
            if chat is None:
                status, body = await call(http, "POST", f"{base}/api/conversations", timeout_s=30)
                if status == 201:
                    chat = body["conversation_id"], body["token"]
                    self.conversations.add(chat[0])
                else:
                    await asyncio.sleep(self.think_s)
                    continue
            cid, token = chat
            sent = now()
            status, body = await call(
                http,
                "POST",
                f"{base}/api/conversations/{cid}/messages",
                token,
                {"text": FAQ[turn % len(FAQ)]},
                timeout_s=40,
            )
            turn += 1
            if status == 0:
                worker += 1  # as a load balancer would, after a refused connection
            answer = Answer(cid, sent, status, now())
            if status == 201 and isinstance(body, dict):
                answer.message_id = body["message"]["id"]
                replies = body.get("replies") or []
                answer.by_bot = any(r.get("author") == "bot" for r in replies)
                answer.notice = bool(body.get("assistant_unavailable")) and bool(replies)
            self.answers.append(answer)
            await asyncio.sleep(self.think_s)


def stored(db: Path | str) -> dict[str, list[tuple[int, str, str]]]:
    """(id, author, text) of every stored message, by conversation, in order; ``db`` is
    an SQLite file or (scaled run) a PostgreSQL URL."""
    rows: dict[str, list[tuple[int, str, str]]] = {}
    if isinstance(db, str):
        found = stored_messages(db)
    else:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            found = list(
                conn.execute("SELECT conversation_id, id, author, text FROM messages ORDER BY id")
            )
    for cid, mid, author, text in found:
        rows.setdefault(cid, []).append((mid, author, text))
    return rows


def unanswered(
    rows: dict[str, list[tuple[int, str, str]]], conversations: set[str]
) -> dict[str, list[int]]:
    """Customer messages followed by nothing from the bot or a notice, by conversation (a
    later notice that quotes the message counts: the restarted web app's "missed")."""
    found: dict[str, list[int]] = {}
    for cid in conversations:
        messages = rows.get(cid, [])
        for index, (mid, author, text) in enumerate(messages):
            following = messages[index + 1 : index + 2]
            if author != "customer" or (following and following[0][1] in ("bot", "system")):
                continue
            if not any(
                later[1] == "system" and f'"{text}"' in later[2] for later in messages[index + 1 :]
            ):
                found.setdefault(cid, []).append(mid)
    return found


async def kill_each(
    load: Load,
    services: list[Service],
    settle_s: float,
    recovery_timeout_s: float,
    all_up: bool = False,
) -> list[Kill]:
    """Kill every service once, each after the customers were served for ``settle_s``
    (``all_up``: and every service answers again, so one failure at a time is measured:
    with two Rasa servers, the second is killed only once the first is back)."""
    kills: list[Kill] = []
    for service in services:
        await served_since(load, now(), settle_s, recovery_timeout_s)
        if all_up:
            await _all_healthy(services, recovery_timeout_s)
        assert service.process is not None
        kill = Kill(service.name, now())
        print(f"Killing the {service.name} (pid {service.process.pid}) ...", flush=True)
        os.killpg(service.process.pid, signal.SIGKILL)
        kills.append(kill)
        kill.recovered_at = await served_since(load, kill.at, 0.0, recovery_timeout_s)
        recovered = (
            f"served again after {kill.recovery_s:.1f} s"
            if kill.recovery_s is not None
            else f"NOT served again within {recovery_timeout_s:.0f} s"
        )
        print(f"  customers {recovered}", flush=True)
    await asyncio.sleep(settle_s)
    return kills


async def _all_healthy(services: list[Service], timeout_s: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = now() + timeout_s
    while now() < deadline:
        answers = [await loop.run_in_executor(None, s.healthy) for s in services]
        if all(answers):
            return
        await asyncio.sleep(0.5)


async def served_since(load: Load, since: float, hold_s: float, timeout_s: float) -> float | None:
    """When the assistant first answered a message sent after ``since`` (then wait
    ``hold_s`` more); None after ``timeout_s``."""
    deadline = since + timeout_s
    while now() < deadline:
        first = min(
            (a.answered_at for a in load.answers if a.sent_at > since and a.by_bot), default=None
        )
        if first is not None:
            await asyncio.sleep(hold_s)
            return first
        await asyncio.sleep(0.1)
    return None


def settle(load: Load, db: Path | str, timeout_s: float) -> dict[str, list[int]]:
    """Wait until every stored customer message got an answer or a notice (the web app
    settles the ones a kill interrupted at its next start); what is still unanswered."""
    deadline = now() + timeout_s
    while True:
        left = unanswered(stored(db), load.conversations)
        if not left or now() > deadline:
            return left
        time.sleep(0.5)


def attribute(kills: list[Kill], load: Load, db: Path | str, left: dict[str, list[int]]) -> None:
    """Charge refusals, losses and customers left without a word to the kill in force
    when the message was sent (or stored)."""
    stored_ids = {row[0] for messages in stored(db).values() for row in messages}

    def in_force(at: float) -> Kill | None:
        return next((kill for kill in reversed(kills) if at >= kill.at), None)

    for answer in load.answers:
        # A request cut off by a kill fails when the kill happens, after it was sent.
        kill = in_force(answer.answered_at if answer.status == 0 else answer.sent_at)
        if kill is None:
            continue
        kill.refused += answer.status == 0
        kill.lost += answer.message_id is not None and answer.message_id not in stored_ids
    for answer in load.agent_answers:
        kill = in_force(answer.answered_at if answer.status == 0 else answer.sent_at)
        if kill is not None:
            kill.agent_failures += answer.status != 201
            kill.lost += answer.message_id is not None and answer.message_id not in stored_ids
    sent_at = {(a.conversation_id, a.message_id): a.sent_at for a in load.answers}
    silent: dict[str, set[str]] = {}
    for cid, mids in left.items():
        for mid in mids:
            # A message the web app stored but never acknowledged (killed mid-answer)
            # counts against the last kill.
            kill = in_force(sent_at.get((cid, mid), now())) or kills[-1]
            silent.setdefault(kill.name, set()).add(cid)
    for kill in kills:
        kill.without_notice = len(silent.get(kill.name, set()))


def report(kills: list[Kill], load: Load, quick: bool) -> str:
    """The table and the machine-readable last line."""
    lines = [
        "",
        f"Chaos run{' (quick)' if quick else ''}: {load.customers} customers, one question "
        f"every {load.think_s:g} s each; {len(load.answers)} messages sent; beside them a "
        f"customer and an agent exchanged {len(load.agent_answers)} messages.",
        "",
        "| killed | served again after (s) | refused requests | lost | customers without "
        "notice | agent chat: failed requests |",
        "|---|---|---|---|---|---|",
    ]
    for kill in kills:
        recovery = f"{kill.recovery_s:.1f}" if kill.recovery_s is not None else "never"
        lines.append(
            f"| {kill.name} | {recovery} | {kill.refused} | {kill.lost} | "
            f"{kill.without_notice} | {kill.agent_failures} |"
        )
    times = [k.recovery_s for k in kills]
    worst = max((t for t in times if t is not None), default=0.0)
    recovery_max = "inf" if any(t is None for t in times) else f"{worst:.1f}"
    lost = sum(k.lost for k in kills)
    without = sum(k.without_notice for k in kills)
    slow = [k.name for k in kills if k.recovery_s is None or k.recovery_s > GOAL_RECOVERY_S]
    lines += [
        "",
        f"Goal: served again within {GOAL_RECOVERY_S:g} s"
        + (f"; missed by: {', '.join(slow)}" if slow else ": met")
        + "; lost 0; "
        "without notice 0.",
        "",
        f"recovery_s_max={recovery_max} lost={lost} without_notice={without}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Start the stack under the supervisor, kill each process once, report."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.benchmark.chaos",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="fewer customers, shorter pauses")
    parser.add_argument("--customers", type=int, default=6)
    parser.add_argument(
        "--think", type=float, default=1.0, help="seconds between a customer's messages"
    )
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument(
        "--scaled", action="store_true", help="2 web workers + 2 Rasa servers on Redis + PostgreSQL"
    )
    args = parser.parse_args(argv)
    if not args.model.exists():
        print(f"No trained model at {args.model}: run `make train` first.", file=sys.stderr)
        return 1
    customers = 3 if args.quick else args.customers
    settle_s = 1.0 if args.quick else 5.0
    folder = Path(tempfile.mkdtemp(prefix="chaos-"))
    scaled: ScaledStack | None = None
    if args.scaled:
        try:
            scaled = sandbox(folder, args.model, "chaos-rasa-token", UNLIMITED)
        except RuntimeError as problem:
            print(f"error: {problem}", file=sys.stderr)
            return 1
        stack: dict[str, object] = {
            "url": scaled.web_urls[0],
            "others": scaled.web_urls[1:],
            "db": scaled.database_url,
        }
        services = scaled.services
        envs = scaled.envs
    else:
        stack = start_stack(folder, args.model)
        services = stack["services"]  # type: ignore[assignment]
        envs = dict(zip((s.name for s in services), stack["envs"]))  # type: ignore[call-overload]
    supervisor = Supervisor(
        services, envs, say=lambda text: print("  supervisor: " + text.splitlines()[0], flush=True)
    )
    watcher = threading.Thread(target=supervisor.run, daemon=True)
    try:
        print(f"Starting the stack (logs in {folder}) ...", flush=True)
        if scaled is not None:
            scaled.start()
        else:
            for service in services:
                service.start(envs[service.name])
            wait_until_healthy(services)
        watcher.start()
        others: list[str] = stack.get("others", [])  # type: ignore[assignment]
        load = Load(str(stack["url"]), customers, args.think, others)
        kills = asyncio.run(_run(load, services, settle_s, all_up=scaled is not None))
        # Scaled: a restarted worker settles what the killed one left only after a grace
        # period (other workers may still be answering), so wait that much longer.
        left = settle(load, stack["db"], 90.0 if scaled is not None else 30.0)  # type: ignore[arg-type]
        attribute(kills, load, stack["db"], left)  # type: ignore[arg-type]
    except RuntimeError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    finally:
        supervisor.stop()
        if watcher.is_alive():
            watcher.join(5)
        for service in reversed(services):
            service.stop()
        if scaled is not None:
            scaled.cluster.stop("immediate")
        if args.keep_logs:
            print(f"Logs and database kept in {folder}", flush=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print(report(kills, load, args.quick))
    return 0 if all(k.lost == 0 and k.without_notice == 0 for k in kills) else 1


async def _run(
    load: Load, services: list[Service], settle_s: float, all_up: bool = False
) -> list[Kill]:
    task = asyncio.ensure_future(load.run())
    try:
        return await kill_each(load, services, settle_s, recovery_timeout_s=180.0, all_up=all_up)
    finally:
        load.running = False
        await task


if __name__ == "__main__":
    sys.exit(main())
