"""Load test of the whole stack: `python -m tools.bench [--quick] [--levels 10,50,100]`.

Starts the action server, Rasa and the web app on free 127.0.0.1 ports with their own
temporary data folder, simulates concurrent customers over the widget's API and websocket
(with ~10% asking for a person, answered by a simulated agent on the desk websocket), and
sends the same customer messages straight to Rasa's REST webhook at the same concurrency,
alternating which phase goes first per level. Then checks every sent message was stored
exactly once, appends a section to BENCHMARKS.md, draws reports/bench_latency.png, and
prints a machine-readable last line:

    gateway_p95_ratio=1.06 agent_delivery_p95_ms=12 lost=0 duplicated=0 rss_total_mb=1900
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp

from actions.content import PROJECT_ROOT
from tools.bench_sim import (Clock, Desk, Plan, Tally, bounded, direct_customer,
                             gateway_customer, run_level)
from tools.bench_stats import (LevelResult, check_messages, goals, machine_description,
                               machine_line, render_report, summary)
from tools.evaluate import _free_port
from tools.stack import (MODEL, Service, action_service, rasa_service, sandbox_web_env,
                         wait_until_healthy, web_service, write_endpoints)

RASA_TOKEN = "bench-rasa-token"
REPORT = PROJECT_ROOT / "BENCHMARKS.md"
PLOT = PROJECT_ROOT / "reports" / "bench_latency.png"
RUN_BUDGET_S = 8 * 60.0  # the simulation stops starting new levels past this


# ---------------------------------------------------------------- processes and memory

def rss_tree_mb(pid: int) -> float:
    """Resident memory (VmRSS) of a process and all its descendants, in MB."""
    children: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    total_kb, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            pass
    return total_kb / 1024


class Sampler:
    """Peak RSS per service, sampled every second while a level runs."""

    def __init__(self, services: List[Service]) -> None:
        self.services = services
        self.peak: Dict[str, float] = {}

    def sample(self) -> None:
        for s in self.services:
            if s.process is not None and s.process.poll() is None:
                self.peak[s.name] = max(self.peak.get(s.name, 0.0), rss_tree_mb(s.process.pid))

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(1.0)


def start_stack(folder: Path, model: Path) -> Dict[str, object]:
    """The three processes on free ports, in ``folder``; returns services and URLs."""
    action_port, rasa_port, web_port = _free_port(), _free_port(), _free_port()
    endpoints = write_endpoints(action_port, path=folder / "endpoints.yml")
    actions = action_service(action_port)
    rasa = rasa_service(rasa_port, endpoints, RASA_TOKEN, model=model)
    web = web_service(web_port)
    for service, log in ((actions, "actions.log"), (rasa, "rasa.log"), (web, "web.log")):
        service.log_path = folder / log
    base = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    web_env = {
        # The simulated agent claims from the queue; no rate limit gets in the way.
        **sandbox_web_env(base, folder, rasa_port, RASA_TOKEN),
        "BOT_RATE_CONVERSATION": "100000",
        "BOT_RATE_ADDRESS": "100000",
        "BOT_RATE_NEW_CONVERSATIONS": "100000",
    }
    return {"services": [actions, rasa, web], "envs": [base, base, web_env],
            "url": f"http://127.0.0.1:{web_port}", "rasa_url": f"http://127.0.0.1:{rasa_port}",
            "db": folder / "app.db"}


def stored_rows(db: Path) -> list:
    """(conversation_id, author, text) of every stored message."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return list(conn.execute("SELECT conversation_id, author, text FROM messages"))


# ---------------------------------------------------------------- the simulation

async def simulate(stack: Dict[str, object], levels: List[int], messages: int,
                   handoff_share: float, seed: int, phase_timeout_s: float,
                   sampler: Sampler, bare_direct: bool = False) -> List[Tally]:
    """Warm up, then every level (both phases); the tallies of the levels run."""
    started = time.monotonic()
    url, rasa = str(stack["url"]), str(stack["rasa_url"])
    connector = aiohttp.TCPConnector(limit=0)
    tallies: List[Tally] = []
    async with aiohttp.ClientSession(connector=connector) as http:
        desk = Desk(http, url)
        await desk.start()
        sampling = asyncio.ensure_future(sampler.run())
        try:
            # Warm-up (not measured): the first messages load TensorFlow graphs.
            warm = Tally(LevelResult(0))
            plan = Plan.make(2, 3, 0.0, seed)
            await bounded([gateway_customer(http, url, t, False, desk, warm, Clock())
                           for t in plan.scripts]
                          + [direct_customer(http, rasa, t, warm, Clock()) for t in plan.scripts],
                          120, warm, "warm-up")
            for index, level in enumerate(levels):
                if time.monotonic() - started > RUN_BUDGET_S:
                    print(f"  time budget spent: level {level} skipped", flush=True)
                    break
                print(f"  level {level}: {level} concurrent conversations ...", flush=True)
                tally = Tally(LevelResult(level))
                sampler.peak = {}
                await run_level(http, url, rasa, desk,
                                Plan.make(level, messages, handoff_share, seed), tally,
                                gateway_first=index % 2 == 0, timeout_s=phase_timeout_s,
                                rasa_token=None if bare_direct else RASA_TOKEN)
                sampler.sample()
                tally.result.rss_mb = dict(sampler.peak)
                tallies.append(tally)
                for note in tally.notes[:5]:
                    print(f"    note: {note}", flush=True)
        finally:
            sampling.cancel()
            await asyncio.gather(sampling, return_exceptions=True)
            await desk.stop()
    return tallies


def time_training(folder: Path) -> Optional[float]:
    """Seconds to train the model from the project's data into ``folder`` (bounded)."""
    rasa = str(Path(sys.executable).with_name("rasa"))
    started = time.monotonic()
    try:
        subprocess.run([rasa, "train", "--config", "config.yml", "--domain", "domain.yml",
                        "--data", "data", "--out", str(folder), "--fixed-model-name", "bench"],
                       cwd=PROJECT_ROOT, check=True, timeout=1800,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (subprocess.SubprocessError, OSError) as problem:
        print(f"  training failed: {problem}", file=sys.stderr)
        return None
    return time.monotonic() - started


# ---------------------------------------------------------------- outputs

def plot(results: List[LevelResult], path: Path) -> None:
    """p50/p95 latency vs concurrency, gateway and direct."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tools.bench_stats import percentile
    path.parent.mkdir(parents=True, exist_ok=True)
    levels = [r.level for r in results]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, attr, color in (("gateway", "gateway_ms", "tab:blue"),
                               ("Rasa direct", "direct_ms", "tab:orange")):
        for pct, style in ((50, "-"), (95, "--")):
            ys = [percentile(getattr(r, attr), pct) for r in results]
            ax.plot(levels, [float("nan") if y is None else y for y in ys], style, marker="o",
                    color=color, label=f"{label} p{pct}")
    ax.set_xlabel("concurrent conversations")
    ax.set_ylabel("customer message → bot reply (ms)")
    ax.set_title("Latency vs concurrency")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(section: str, path: Path) -> None:
    """Append the run's section to BENCHMARKS.md (created with a header the first time)."""
    if not path.exists():
        path.write_text(
            "# Benchmarks\n\n"
            "Written by `python -m tools.bench` (`make bench`); one section per run, newest "
            "last. Latencies in ms, customer message → bot reply: *gateway* through the web "
            "app's API (`POST /api/conversations/{id}/messages`), *direct* the same messages "
            "to Rasa's REST webhook at the same concurrency. Agent→customer: agent's reply "
            "POST until the customer's websocket frame. Handoff→desk: the customer's request "
            "until the desk websocket's `conversation.queued`. Lost/dup: checked against the "
            "database. RSS: peak per process tree during the level.\n\n")
    with path.open("a") as out:
        out.write("\n" + section)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="10,50,100", help="concurrent conversations")
    parser.add_argument("--messages", type=int, default=4, help="bot messages per conversation")
    parser.add_argument("--quick", action="store_true", help="smoke run: levels 2,5, 2 messages")
    parser.add_argument("--handoff-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--phase-timeout", type=float, default=150.0, help="seconds per phase")
    parser.add_argument("--training-seconds", type=float, help="last measured training time")
    parser.add_argument("--train", action="store_true", help="time a training (slow)")
    parser.add_argument("--bare-direct", action="store_true",
                        help="direct phase without the session start the web app does")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("--plot", type=Path, default=PLOT)
    args = parser.parse_args(argv)
    levels = [2, 5] if args.quick else [int(x) for x in args.levels.split(",") if x.strip()]
    messages = 2 if args.quick else args.messages
    if not levels or min(levels) < 1 or messages < 1:
        parser.error("levels and --messages must be positive")
    if not args.model.exists():
        print(f"No trained model at {args.model}: run `make train` first.", file=sys.stderr)
        return 1

    folder = Path(tempfile.mkdtemp(prefix="bench-"))
    stack = start_stack(folder, args.model)
    services: List[Service] = stack["services"]  # type: ignore[assignment]
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    tallies: List[Tally] = []
    try:
        print(f"Starting the stack (logs in {folder}) ...", flush=True)
        for service, env in zip(services, stack["envs"]):  # type: ignore[call-overload]
            service.start(env)
        wait_until_healthy(services)
        sampler = Sampler(services)
        tallies = asyncio.run(simulate(stack, levels, messages, args.handoff_share, args.seed,
                                       args.phase_timeout, sampler, args.bare_direct))
        rows = stored_rows(stack["db"])  # type: ignore[arg-type]
        for tally in tallies:
            tally.result.lost, tally.result.duplicated = check_messages(tally.sent, rows)
        training = (f"{args.training_seconds:.0f} s (given with --training-seconds)"
                    if args.training_seconds else "not measured in this run")
        if args.train:
            seconds = time_training(folder / "train")
            training = f"{seconds:.0f} s (timed in this run)" if seconds else "training failed"
    except KeyboardInterrupt:
        print("\nInterrupted: stopping the stack.", file=sys.stderr)
        return 130
    except RuntimeError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    finally:
        for service in reversed(services):
            service.stop()
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(folder, ignore_errors=True)

    results = [t.result for t in tallies]
    figures = summary(results)
    notify = [ms for r in results for ms in r.handoff_notify_ms]
    rss_max = max((mb for r in results for mb in r.rss_mb.values()), default=None)
    queued = sum(t.handoffs_queued for t in tallies)
    not_queued = sum(t.handoffs_not_queued for t in tallies)
    notes = (f"Handoffs queued: {queued}, not queued: {not_queued}. Errors count failed or "
             "timed-out requests, claims and hand-backs.")
    settings = (f"levels {','.join(map(str, levels))}{' (quick)' if args.quick else ''}, "
                f"{messages} bot messages per conversation (+ handoff and one more for "
                f"{args.handoff_share:.0%}), seed {args.seed}, one simulated agent (cap 3), "
                + ("direct phase: messages only" if args.bare_direct else
                   "direct phase opens each conversation like the web app "
                   "(tracker events + action_session_start, not timed)"))
    section = render_report(
        results, date=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        machine=machine_description(), settings=settings, training=training,
        figures=figures, goal_rows=goals(figures, max(notify) if notify else None, rss_max),
        notes=notes)
    write_report(section, args.report)
    plot(results, args.plot)
    print(section)
    print(machine_line(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
