"""The simulated customers and agents of `python -m tools.benchmark.bench`, over the real HTTP
API and websockets of the web app, and the same customers straight at Rasa's REST webhook.

Three kinds of load:

- *paced*: every conversation follows a fixed timetable (a customer types a message some
  seconds after the last one, as people do); both phases replay the same timetable, so the
  gateway and Rasa alone get the same offered load and their latencies compare fairly;
- *saturation*: closed loop, no think time: messages/second the stack sustains;
- *overload*: messages arrive at a fixed rate (twice saturation) whatever the answers do.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .bench_stats import LevelResult, OverloadResult, Sent

FAQ = [
    "How do I return an item?",
    "Which payment methods do you accept?",
    "How long does delivery take?",
    "I forgot my password, how do I reset it?",
    "Where is my order?",
    "Can I pay with PayPal?",
    "How much is shipping?",
    "When will I get my refund?",
]
SMALL_TALK = ["hi", "hello there", "thanks", "thank you!"]
HANDOFF_TEXT = "I want to talk to a person"
REQUEST_TIMEOUT_S = 60.0
OVERLOAD_TIMEOUT_S = 120.0  # under overload a customer waits; the gateway bounds the wait
WAIT_AGENT_S = 60.0
now = time.perf_counter


def script(rng: random.Random, messages: int) -> list[str]:
    """A customer's messages: a greeting, FAQ questions, and thanks at the end (if room)."""
    texts = [rng.choice(SMALL_TALK[:2])]
    while len(texts) < messages - 1:
        texts.append(rng.choice(FAQ))
    if messages > 1:
        texts.append(rng.choice(SMALL_TALK[2:]) if messages > 2 else rng.choice(FAQ))
    return texts[:messages]


@dataclass
class Plan:
    """What every conversation of a level says, when, and who asks for a person (and how).

    ``opens[i]`` is when conversation ``i`` starts and ``times[i][k]`` when its ``k``-th
    message is due, in seconds from the start of the phase: the script's messages, then the
    request for a person, then one more question after the hand-back. A message is sent at
    its time or as soon as the previous answer arrived, whichever is later.
    """

    scripts: list[list[str]]
    handoff: list[str | None]  # None, "typed" ("I want to talk to a person") or "button"
    opens: list[float]
    times: list[list[float]]
    think: tuple[float, float] = (0.0, 0.0)

    @classmethod
    def make(
        cls,
        level: int,
        messages: int,
        handoff_share: float,
        seed: int,
        think: tuple[float, float] = (0.0, 0.0),
    ) -> Plan:
        rng = random.Random(seed * 1000 + level)
        wanted = max(1, round(level * handoff_share)) if handoff_share > 0 else 0
        chosen = sorted(rng.sample(range(level), min(wanted, level)))
        kinds = {index: ("typed", "button")[n % 2] for n, index in enumerate(chosen)}
        scripts = [script(rng, messages) for _ in range(level)]
        low, high = think
        mean = (low + high) / 2
        opens = [i * mean / level for i in range(level)]  # arrivals spread over one think
        times = []
        for start in opens:
            row, at = [], start
            for _ in range(messages + 2):
                at += rng.uniform(low, high) if high > 0 else 0.0
                row.append(at)
            times.append(row)
        return cls(scripts, [kinds.get(i) for i in range(level)], opens, times, think)

    def offered_rate(self) -> float | None:
        """Messages per second the timetable offers in steady state (None: closed loop)."""
        mean = sum(self.think) / 2
        return len(self.scripts) / mean if mean > 0 else None


async def until(t0: float, offset: float) -> None:
    """Sleep until ``offset`` seconds after ``t0`` (at once if that is past)."""
    delay = t0 + offset - now()
    if delay > 0:
        await asyncio.sleep(delay)


@dataclass
class Tally:
    """Raw records of one level while it runs."""

    result: LevelResult
    sent: list[Sent] = field(default_factory=list)
    handoffs_queued: int = 0
    handoffs_not_queued: int = 0
    notes: list[str] = field(default_factory=list)


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    token: str | None = None,
    body: Any = None,
    timeout_s: float = REQUEST_TIMEOUT_S,
) -> tuple[int, Any]:
    """One request; (status, JSON or None). Network errors and timeouts are status 0."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with http.request(
            method, url, json=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout_s)
        ) as resp:
            try:
                return resp.status, await resp.json(content_type=None)
            except ValueError:
                return resp.status, None
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return 0, None


class Desk:
    """One agent logged in to the desk: hears queued chats on the websocket, claims them,
    replies twice, hands back. At most ``cap`` chats at once (the agent's max_chats)."""

    def __init__(self, http: aiohttp.ClientSession, base: str, cap: int = 3) -> None:
        self.http, self.base, self.cap = http, base, cap
        self.token = ""
        self.requested: dict[str, tuple[float, Tally]] = {}  # cid -> (handoff sent at, tally)
        self.reply_sent_at: dict[str, float] = {}  # agent text -> sent at
        self.finished: dict[str, asyncio.Event] = {}
        self.queue: asyncio.Queue = asyncio.Queue()
        self.tasks: list[asyncio.Task] = []
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def start(self, login: str = "demo", password: str = "demo") -> None:
        status, body = await call(
            self.http,
            "POST",
            f"{self.base}/api/agent/login",
            body={"login": login, "password": password},
        )
        if status != 200:
            raise RuntimeError(f"agent login failed: {status} {body}")
        self.token = body["token"]
        status, body = await call(
            self.http, "POST", f"{self.base}/api/agent/status", self.token, {"online": True}
        )
        if status != 200:
            raise RuntimeError(f"agent could not go online: {status} {body}")
        self.ws = await self.http.ws_connect(
            self.base.replace("http", "ws", 1) + "/api/agent/ws", autoping=True
        )
        await self.ws.send_json({"type": "hello", "token": self.token, "last_message_id": 0})
        ready = await self.ws.receive_json(timeout=REQUEST_TIMEOUT_S)
        if ready.get("type") != "ready":
            raise RuntimeError(f"desk websocket refused: {ready}")
        self.tasks = [asyncio.ensure_future(self._listen()), asyncio.ensure_future(self._ping())]
        self.tasks += [asyncio.ensure_future(self._work()) for _ in range(self.cap)]

    def expect(self, cid: str, tally: Tally) -> asyncio.Event:
        """Call just before the customer asks for a person."""
        self.requested[cid] = (now(), tally)
        self.finished[cid] = asyncio.Event()
        return self.finished[cid]

    async def _listen(self) -> None:
        assert self.ws is not None
        async for frame in self.ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(frame.data)
            if data.get("type") == "event" and data.get("event") == "conversation.queued":
                cid = data["data"]["conversation_id"]
                if cid in self.requested:
                    sent_at, tally = self.requested[cid]
                    tally.result.handoff_notify_ms.append((now() - sent_at) * 1000)
                    self.queue.put_nowait(cid)

    async def _ping(self) -> None:
        while self.ws is not None and not self.ws.closed:
            await asyncio.sleep(20)
            await self.ws.send_json({"type": "ping"})

    async def _work(self) -> None:
        while True:
            cid = await self.queue.get()
            try:
                await self._serve(cid)
            finally:
                self.finished[cid].set()

    async def _serve(self, cid: str) -> None:
        tally = self.requested[cid][1]
        url = f"{self.base}/api/agent/conversations/{cid}"
        for _ in range(100):  # bounded: ~10 s of retries while at the cap
            status, body = await call(self.http, "POST", url + "/claim", self.token)
            if status == 200:
                break
            await asyncio.sleep(0.1)
        else:
            tally.notes.append(f"claim of {cid} failed: {status} {body}")
            tally.result.errors += 1
            return
        for k in (1, 2):
            text = f"Agent reply {k} for {cid[:12]}: I'm on it."
            self.reply_sent_at[text] = now()
            status, _ = await call(self.http, "POST", url + "/messages", self.token, {"text": text})
            tally.sent.append(Sent(cid, "agent", text, acked=status == 201))
            if status != 201:
                tally.result.errors += 1
        status, _ = await call(self.http, "POST", url + "/handback", self.token)
        if status != 200:
            tally.result.errors += 1

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.ws is not None:
            await self.ws.close()


class Clock:
    """Start of a phase and the time of its last bot reply, for messages/second."""

    def __init__(self) -> None:
        self.start = now()
        self.last = self.start
        self.count = 0

    def answered(self) -> None:
        self.count += 1
        self.last = now()

    def rate(self) -> float | None:
        span = self.last - self.start
        return self.count / span if self.count and span > 0 else None


async def gateway_customer(
    http: aiohttp.ClientSession,
    base: str,
    plan: Plan,
    index: int,
    desk: Desk,
    tally: Tally,
    clock: Clock,
    t0: float,
) -> None:
    """Customer ``index`` of the plan over the widget's API: start, websocket, messages on
    its timetable, maybe a person (typed or with the button), one more question after."""
    texts, handoff, times = plan.scripts[index], plan.handoff[index], plan.times[index]
    await until(t0, plan.opens[index])
    status, chat = await call(http, "POST", f"{base}/api/conversations")
    if status != 201:
        tally.result.errors += 1
        tally.notes.append(f"start failed: {status} {chat}")
        return
    cid, token = chat["conversation_id"], chat["token"]
    api = f"{base}/api/conversations/{cid}"
    ws = await http.ws_connect(api.replace("http", "ws", 1) + "/ws")
    bot_back = asyncio.Event()
    seen_ids: set = set()

    async def read() -> None:
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(frame.data)
            if data.get("type") == "bot_back":
                bot_back.set()
            elif data.get("type") == "message":
                message = data["message"]
                if message["id"] in seen_ids:
                    continue
                seen_ids.add(message["id"])
                sent_at = desk.reply_sent_at.get(message["text"])
                if message["author"] == "agent" and sent_at is not None:
                    tally.result.agent_delivery_ms.append((now() - sent_at) * 1000)

    reader = asyncio.ensure_future(read())
    try:
        await ws.send_json({"type": "hello", "token": token, "after": 0})

        async def say(text: str, measure: bool) -> Any:
            started = now()
            status, body = await call(http, "POST", api + "/messages", token, {"text": text})
            elapsed = (now() - started) * 1000
            tally.sent.append(Sent(cid, "customer", text, acked=status == 201))
            if status != 201:
                tally.result.errors += 1
                return None
            if measure and body.get("replies"):
                tally.result.gateway_ms.append(elapsed)
                clock.answered()
            return body

        for k, text in enumerate(texts):
            await until(t0, times[k])
            await say(text, measure=True)
        if handoff:
            await until(t0, times[len(texts)])
            finished = desk.expect(cid, tally)
            if handoff == "button":
                status, body = await call(http, "POST", api + "/handoff", token)
                if status != 200:
                    tally.result.errors += 1
            else:
                body = await say(HANDOFF_TEXT, measure=False)
            if body and (body.get("handoff") or {}).get("outcome") == "queued":
                tally.handoffs_queued += 1
                try:
                    await asyncio.wait_for(finished.wait(), WAIT_AGENT_S)
                    await asyncio.wait_for(bot_back.wait(), WAIT_AGENT_S)
                except asyncio.TimeoutError:
                    tally.notes.append(f"{cid}: the agent never handed back")
                    tally.result.errors += 1
                else:
                    # The bot answers again after the person. Not measured: Rasa alone
                    # gets no such message, and the ratio compares the same messages.
                    await until(t0, times[len(texts) + 1])
                    await say(FAQ[0], measure=False)
            else:
                tally.handoffs_not_queued += 1
                desk.requested.pop(cid, None)
        await call(http, "POST", api + "/close", token)
        await asyncio.sleep(0.05)  # let the last frames arrive
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await ws.close()


SESSION_START = [
    {"event": "action", "name": "action_session_start"},
    {"event": "session_started"},
    {"event": "action", "name": "action_listen"},
]


async def direct_customer(
    http: aiohttp.ClientSession,
    rasa: str,
    plan: Plan,
    index: int,
    tally: Tally,
    clock: Clock,
    t0: float,
    token: str | None = None,
) -> None:
    """The same customer's messages, on the same timetable, straight to Rasa's REST webhook.

    With Rasa's ``token``, the conversation is first opened the way the web app opens one
    (tracker events + ``action_session_start`` through the HTTP API, not measured), so Rasa
    does the same work per conversation in both phases.
    """
    sender = f"bench-direct-{uuid.uuid4().hex}"
    await until(t0, plan.opens[index])
    if token:
        api = f"{rasa}/conversations/{sender}"
        await call(http, "POST", f"{api}/tracker/events?token={token}", body=SESSION_START)
        await call(
            http, "POST", f"{api}/execute?token={token}", body={"name": "action_session_start"}
        )
    for k, text in enumerate(plan.scripts[index]):
        await until(t0, plan.times[index][k])
        started = now()
        status, body = await call(
            http, "POST", f"{rasa}/webhooks/rest/webhook", body={"sender": sender, "message": text}
        )
        if status == 200 and body:
            tally.result.direct_ms.append((now() - started) * 1000)
            clock.answered()
        else:
            tally.result.errors += 1


async def bounded(coros: list[Any], timeout_s: float, tally: Tally, what: str) -> None:
    """Run the coroutines together; give up on all of them after ``timeout_s``."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    done, pending = await asyncio.wait(tasks, timeout=timeout_s)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if pending:
        tally.notes.append(f"{what}: {len(pending)} conversations cut off after {timeout_s:.0f} s")
        tally.result.errors += len(pending)
    for task in done:
        if task.exception() is not None:
            tally.notes.append(f"{what}: {task.exception()!r}")
            tally.result.errors += 1


async def run_level(
    http: aiohttp.ClientSession,
    base: str,
    rasa: str,
    desk: Desk,
    plan: Plan,
    tally: Tally,
    timeout_s: float,
    rasa_token: str | None = None,
    mixed: bool = True,
) -> tuple[float | None, float | None]:
    """Every conversation of the plan once through the gateway and once straight to Rasa;
    (gateway, direct) bot replies per second.

    ``mixed`` (paced plans): two rounds on the plan's timetable; in each, half of the
    conversations go through the gateway and the other half straight to Rasa, swapped in
    the second round. Both paths then share the same moments of the same machine, so a
    busy neighbour or a garbage collection hits both alike, and the offered load is the
    level's. Otherwise (saturation): the gateway alone, then Rasa alone.
    """
    n = len(plan.scripts)
    gateway_clock, direct_clock = Clock(), Clock()

    def through_gateway(i: int, clock: Clock, t0: float) -> Any:
        return gateway_customer(http, base, plan, i, desk, tally, clock, t0)

    def straight(i: int, clock: Clock, t0: float) -> Any:
        return direct_customer(http, rasa, plan, i, tally, clock, t0, rasa_token)

    if mixed:
        for round_ in (0, 1):
            t0 = now()
            await bounded(
                [
                    through_gateway(i, gateway_clock, t0)
                    if (i + round_) % 2 == 0
                    else straight(i, direct_clock, t0)
                    for i in range(n)
                ],
                timeout_s,
                tally,
                f"round {round_ + 1}",
            )
            await asyncio.sleep(1.0)  # let the stack settle between rounds
        return None, None
    for name, make, clock in (
        ("gateway", through_gateway, gateway_clock),
        ("direct", straight, direct_clock),
    ):
        clock.start = clock.last = t0 = now()
        await bounded([make(i, clock, t0) for i in range(n)], timeout_s, tally, name)
        await asyncio.sleep(1.0)
    return gateway_clock.rate(), direct_clock.rate()


# ---------------------------------------------------------------- overload


def classify(status: int, body: Any) -> str:
    """What a customer got back under overload: ``answered`` (the bot replied),
    ``refused`` (a clear answer that the message could not be handled now: a busy or
    unavailable notice with the message saved, or a 429/503 with an error text), or
    ``error`` (anything else: a timeout, a 500, an empty answer)."""
    if status == 201 and isinstance(body, dict):
        if body.get("assistant_busy") or body.get("assistant_unavailable"):
            return "refused"
        if any(r.get("author") == "bot" for r in body.get("replies") or []):
            return "answered"
        return "error"
    if status in (429, 503) and isinstance(body, dict) and body.get("error"):
        return "refused"
    return "error"


async def overload(
    http: aiohttp.ClientSession,
    base: str,
    rate: float,
    seconds: float,
    seed: int,
    result: OverloadResult,
    sent: list[Sent],
) -> None:
    """``rate`` messages per second for ``seconds`` into a pool of open conversations,
    each sent on time whatever happened to the earlier ones (open loop)."""
    rng = random.Random(seed)
    pool_size = max(10, math.ceil(rate * 4))  # a customer writes every ~4 s
    gate = asyncio.Semaphore(8)

    async def open_one() -> tuple[str, str] | None:
        async with gate:
            status, chat = await call(http, "POST", f"{base}/api/conversations")
        return (chat["conversation_id"], chat["token"]) if status == 201 else None

    pool = [c for c in await asyncio.gather(*(open_one() for _ in range(pool_size))) if c]
    if not pool:
        result.errors += 1
        result.notes.append("no conversation could be opened")
        return

    async def send(cid: str, token: str, text: str) -> None:
        started = now()
        status, body = await call(
            http,
            "POST",
            f"{base}/api/conversations/{cid}/messages",
            token,
            {"text": text},
            timeout_s=OVERLOAD_TIMEOUT_S,
        )
        sent.append(Sent(cid, "customer", text, acked=status == 201))
        kind = classify(status, body)
        if kind == "answered":
            result.answered_ms.append((now() - started) * 1000)
        elif kind == "refused":
            result.refused += 1
            if not result.refusal_example:
                result.refusal_example = _refusal_text(status, body)
        else:
            result.errors += 1
            if len(result.notes) < 5:
                result.notes.append(f"unclear answer: {status} {str(body)[:400]}")

    total = max(1, round(rate * seconds))
    result.offered = total
    # Each customer asks different questions: the same one again would (rightly) count
    # as an unhelpful answer and bring in a person, whose chats the bot leaves alone.
    first = [rng.randrange(len(FAQ)) for _ in pool]
    t0 = now()
    tasks = []
    for j in range(total):
        await until(t0, j / rate)
        index, turn = j % len(pool), j // len(pool)
        cid, token = pool[index]
        text = FAQ[(first[index] + turn) % len(FAQ)]
        tasks.append(asyncio.ensure_future(send(cid, token, text)))
    result.sending_s = now() - t0
    await asyncio.gather(*tasks)


def _refusal_text(status: int, body: Any) -> str:
    if status == 201:
        notices = [
            r.get("text", "") for r in body.get("replies") or [] if r.get("author") == "system"
        ]
        return notices[-1] if notices else "(no notice)"
    return f"{status}: {body.get('error')}"
