"""Load test of the whole stack: `python -m tools.benchmark.bench [--quick] [--levels 10,50,100]`.

Starts the action server, Rasa and the web app on free 127.0.0.1 ports with their own
temporary data folder, and for each level simulates that many concurrent customers over the
widget's API and websocket, each typing on a fixed timetable (~10% ask for a person, typed or
with the button, answered by a simulated agent on the desk websocket). Each level runs
twice: half of the customers go through the gateway and half straight to Rasa's REST
webhook, swapped the second time, so every customer is measured both ways at the level's
load and both paths share the machine's same moments: the gateway's overhead is a ratio,
not an absolute time on a noisy machine. Then a closed loop
without think time measures saturation (both ways) and an open loop at twice that rate
checks that overload waits or is refused clearly. Every sent message is checked against
the database; a training run is timed last. Appends a section to BENCHMARKS.md, draws
reports/bench_latency.png, and prints a machine-readable last line:

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
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from actions.content import PROJECT_ROOT
from tools.benchmark.bench_sim import Desk, Plan, Tally, overload, run_level
from tools.benchmark.bench_stats import (
    LevelResult,
    OverloadResult,
    SaturationResult,
    Sent,
    check_messages,
    goals,
    machine_description,
    machine_line,
    overload_line,
    render_report,
    saturation_line,
    summary,
)
from tools.stack.runner import (
    MODEL,
    Service,
    action_service,
    free_port,
    rasa_service,
    sandbox_web_env,
    wait_until_healthy,
    web_service,
    write_endpoints,
)

RASA_TOKEN = "bench-rasa-token"
REPORT = PROJECT_ROOT / "BENCHMARKS.md"
PLOT = PROJECT_ROOT / "reports" / "bench_latency.png"
RUN_BUDGET_S = 15 * 60.0
HEADER = (
    "Written by `python -m tools.benchmark.bench` (`make bench`); one section per run, newest "
    "last. Latencies in ms, customer message → bot reply: *gateway* through the web app's API "
    "(`POST /api/conversations/{id}/messages`), *direct* the same messages to Rasa's REST "
    "webhook: each level runs twice on one timetable, half of the conversations through the "
    "gateway and half direct, swapped the second time, so both paths share the same load "
    "at the same moments. Agent→customer: the agent's reply "
    "POST until the customer's websocket frame. Handoff→desk: the customer's request (typed "
    "or the button) until the desk websocket's `conversation.queued`. Lost/dup: checked "
    "against the database. RSS: peak per process tree during the level.\n\n"
)  # the simulation stops starting new levels past this


# ---------------------------------------------------------------- processes and memory


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def rss_tree_mb(pid: int) -> float:
    """Resident memory (VmRSS) of a process and all its descendants, in MB."""
    total_kb = 0
    for member in process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            pass
    return total_kb / 1024


class Sampler:
    """Peak RSS per service, sampled every second while a level runs."""

    def __init__(self, services: list[Service]) -> None:
        self.services = services
        self.peak: dict[str, float] = {}

    def sample(self) -> None:
        for s in self.services:
            if s.process is not None and s.process.poll() is None:
                self.peak[s.name] = max(self.peak.get(s.name, 0.0), rss_tree_mb(s.process.pid))

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(1.0)


def start_stack(folder: Path, model: Path) -> dict[str, object]:
    """The three processes on free ports, in ``folder``; returns services and URLs."""
    action_port, rasa_port, web_port = free_port(), free_port(), free_port()
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
        # Every simulated customer holds a websocket from 127.0.0.1: past 50 the default
        # cap per address would refuse them (a real shop's customers come from many).
        "BOT_CONNECTIONS_PER_ADDRESS": "0",
    }
    return {
        "services": [actions, rasa, web],
        "envs": [{**base, "WEB_APP_URL": f"http://127.0.0.1:{web_port}"}, base, web_env],
        "url": f"http://127.0.0.1:{web_port}",
        "rasa_url": f"http://127.0.0.1:{rasa_port}",
        "db": folder / "app.db",
    }


def stored_rows(db: Path) -> list:
    """(conversation_id, author, text) of every stored message."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return list(conn.execute("SELECT conversation_id, author, text FROM messages"))


# ---------------------------------------------------------------- the simulation


@dataclass
class Run:
    """Everything one benchmark run measured, before the database check."""

    tallies: list[Tally] = field(default_factory=list)
    saturation: SaturationResult | None = None
    saturation_sent: list[Sent] = field(default_factory=list)
    overload: OverloadResult | None = None
    overload_sent: list[Sent] = field(default_factory=list)
    stress_rss_mb: dict[str, float] = field(default_factory=dict)


async def simulate(
    stack: dict[str, object],
    args: argparse.Namespace,
    levels: list[int],
    messages: int,
    sampler: Sampler,
) -> Run:
    """Warm up; every level on its paced timetable (both phases); then saturation (closed
    loop at the highest level, both phases) and overload (twice that, gateway only)."""
    started = time.monotonic()
    url, rasa = str(stack["url"]), str(stack["rasa_url"])
    token = None if args.bare_direct else RASA_TOKEN
    think = (args.think_min, args.think_max)
    connector = aiohttp.TCPConnector(limit=0)
    run = Run()
    async with aiohttp.ClientSession(connector=connector) as http:
        desk = Desk(http, url)
        await desk.start()
        sampling = asyncio.ensure_future(sampler.run())
        try:
            # Warm-up (not measured): the first messages load TensorFlow graphs.
            warm = Tally(LevelResult(0))
            await run_level(
                http,
                url,
                rasa,
                desk,
                Plan.make(2, 3, 0.0, args.seed),
                warm,
                120,
                token,
                mixed=False,
            )
            for level in levels:
                if time.monotonic() - started > RUN_BUDGET_S:
                    print(f"  time budget spent: level {level} skipped", flush=True)
                    break
                plan = Plan.make(level, messages, args.handoff_share, args.seed, think)
                print(
                    f"  level {level}: {level} conversations, "
                    f"~{plan.offered_rate() or 0:.1f} msgs/s offered ...",
                    flush=True,
                )
                tally = Tally(LevelResult(level, offered_msgs_per_s=plan.offered_rate()))
                sampler.peak = {}
                await run_level(
                    http,
                    url,
                    rasa,
                    desk,
                    plan,
                    tally,
                    timeout_s=args.phase_timeout,
                    rasa_token=token,
                )
                sampler.sample()
                tally.result.rss_mb = dict(sampler.peak)
                run.tallies.append(tally)
                _print_notes(tally.notes)
            sampler.peak = {}
            if args.saturation and levels:
                run.saturation = await _saturation(
                    http, url, rasa, desk, max(levels), messages, args, token, run
                )
            rate = run.saturation.gateway_msgs_per_s if run.saturation else None
            if args.overload_seconds > 0 and rate:
                run.overload = OverloadResult(rate=2 * rate, seconds=args.overload_seconds)
                print(
                    f"  overload: {2 * rate:.1f} msgs/s for {args.overload_seconds:.0f} s ...",
                    flush=True,
                )
                await overload(
                    http,
                    url,
                    2 * rate,
                    args.overload_seconds,
                    args.seed,
                    run.overload,
                    run.overload_sent,
                )
                _print_notes(run.overload.notes)
            sampler.sample()
            run.stress_rss_mb = dict(sampler.peak)
        finally:
            sampling.cancel()
            await asyncio.gather(sampling, return_exceptions=True)
            await desk.stop()
    return run


async def _saturation(
    http: aiohttp.ClientSession,
    url: str,
    rasa: str,
    desk: Desk,
    level: int,
    messages: int,
    args: argparse.Namespace,
    token: str | None,
    run: Run,
) -> SaturationResult:
    print(f"  saturation: {level} conversations, closed loop ...", flush=True)
    tally = Tally(LevelResult(level))
    gateway, direct = await run_level(
        http,
        url,
        rasa,
        desk,
        Plan.make(level, messages, 0.0, args.seed + 1),
        tally,
        timeout_s=args.phase_timeout,
        rasa_token=token,
        mixed=False,
    )
    _print_notes(tally.notes)
    run.saturation_sent = tally.sent
    return SaturationResult(
        level,
        gateway,
        direct,
        tally.result.gateway_ms,
        tally.result.direct_ms,
        errors=tally.result.errors,
    )


def _print_notes(notes: list[str]) -> None:
    for note in notes[:5]:
        print(f"    note: {note}", flush=True)


def time_training(folder: Path) -> float | None:
    """Seconds to train the model from the project's data into ``folder`` (bounded)."""
    rasa = str(Path(sys.executable).with_name("rasa"))
    started = time.monotonic()
    try:
        # From scratch: --force and an empty cache, or Rasa reuses what `make train` left
        # in .rasa/cache and "trains" in seconds.
        subprocess.run(
            [
                rasa,
                "train",
                "--config",
                "config.yml",
                "--domain",
                "domain.yml",
                "--data",
                "data",
                "--out",
                str(folder),
                "--fixed-model-name",
                "bench",
                "--force",
            ],
            cwd=PROJECT_ROOT,
            check=True,
            timeout=1800,
            env={**os.environ, "RASA_CACHE_DIRECTORY": str(folder / "cache")},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except (subprocess.SubprocessError, OSError) as problem:
        print(f"  training failed: {problem}", file=sys.stderr)
        return None
    return time.monotonic() - started


# ---------------------------------------------------------------- outputs


def plot(results: list[LevelResult], path: Path) -> None:
    """p50/p95 latency vs concurrency, gateway and direct."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tools.benchmark.bench_stats import percentile

    path.parent.mkdir(parents=True, exist_ok=True)
    levels = [r.level for r in results]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, attr, color in (
        ("gateway", "gateway_ms", "tab:blue"),
        ("Rasa direct", "direct_ms", "tab:orange"),
    ):
        for pct, style in ((50, "-"), (95, "--")):
            ys = [percentile(getattr(r, attr), pct) for r in results]
            ax.plot(
                levels,
                [float("nan") if y is None else y for y in ys],
                style,
                marker="o",
                color=color,
                label=f"{label} p{pct}",
            )
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
        path.write_text("# Benchmarks\n\n" + HEADER)
    with path.open("a") as out:
        out.write("\n" + section)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--levels", default="10,50,100", help="concurrent conversations")
    parser.add_argument("--messages", type=int, default=4, help="bot messages per conversation")
    parser.add_argument(
        "--think-min",
        type=float,
        default=4.0,
        help="seconds between a customer's messages, at least",
    )
    parser.add_argument(
        "--think-max",
        type=float,
        default=12.0,
        help="seconds between a customer's messages, at most",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: levels 2,5, 2 messages, 1-2 s think, 3 s overload, no training",
    )
    parser.add_argument("--handoff-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--phase-timeout", type=float, default=180.0, help="seconds per phase")
    parser.add_argument(
        "--no-saturation",
        dest="saturation",
        action="store_false",
        help="skip the saturation and overload runs",
    )
    parser.add_argument(
        "--overload-seconds",
        type=float,
        default=15.0,
        help="seconds of arrivals at twice saturation (0: skip)",
    )
    parser.add_argument(
        "--no-train",
        dest="train",
        action="store_false",
        help="do not time a training run at the end",
    )
    parser.add_argument(
        "--training-seconds", type=float, help="report this training time instead of timing one"
    )
    parser.add_argument(
        "--bare-direct",
        action="store_true",
        help="direct phase without the session start the web app does",
    )
    parser.add_argument(
        "--keep-logs",
        action="store_true",
        help="keep the stack's folder (logs, database) after the run",
    )
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("--plot", type=Path, default=PLOT)
    args = parser.parse_args(argv)
    levels = [2, 5] if args.quick else [int(x) for x in args.levels.split(",") if x.strip()]
    messages = 2 if args.quick else args.messages
    if args.quick:
        args.think_min, args.think_max = 1.0, 2.0
        args.overload_seconds, args.train = min(args.overload_seconds, 3.0), False
    if not levels or min(levels) < 1 or messages < 1:
        parser.error("levels and --messages must be positive")
    if not 0 <= args.think_min <= args.think_max:
        parser.error("--think-min must be between 0 and --think-max")
    if not args.model.exists():
        print(f"No trained model at {args.model}: run `make train` first.", file=sys.stderr)
        return 1

    folder = Path(tempfile.mkdtemp(prefix="bench-"))
    stack = start_stack(folder, args.model)
    services: list[Service] = stack["services"]  # type: ignore[assignment]
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        print(f"Starting the stack (logs in {folder}) ...", flush=True)
        for service, env in zip(services, stack["envs"]):  # type: ignore[call-overload]
            service.start(env)
        wait_until_healthy(services)
        sampler = Sampler(services)
        run = asyncio.run(simulate(stack, args, levels, messages, sampler))
        check_database(run, stack["db"])  # type: ignore[arg-type]
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
    try:
        training = training_note(args, folder)
    finally:
        if args.keep_logs:
            print(f"The stack's logs and database are kept in {folder}", flush=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)

    section, line = report(run, args, levels, messages, training)
    write_report(section, args.report)
    plot([t.result for t in run.tallies], args.plot)
    print(section)
    print(line)
    return 0


def check_database(run: Run, db: Path) -> None:
    """Lost and duplicated messages of every part of the run, from the stored rows."""
    rows = stored_rows(db)
    for tally in run.tallies:
        tally.result.lost, tally.result.duplicated = check_messages(tally.sent, rows)
    if run.saturation:
        run.saturation.lost, run.saturation.duplicated = check_messages(run.saturation_sent, rows)
    if run.overload:
        run.overload.lost, run.overload.duplicated = check_messages(run.overload_sent, rows)


def training_note(args: argparse.Namespace, folder: Path) -> str:
    """The training time line: given, timed now (after the load, on an idle machine), or not."""
    if args.training_seconds:
        return f"{args.training_seconds:.0f} s (given with --training-seconds)"
    if not args.train:
        return "not measured in this run"
    print("Timing a training run (config.yml, domain.yml, data/) ...", flush=True)
    seconds = time_training(folder / "train")
    return f"{seconds:.0f} s (timed in this run)" if seconds else "training failed"


def report(
    run: Run, args: argparse.Namespace, levels: list[int], messages: int, training: str
) -> tuple[str, str]:
    """The BENCHMARKS.md section and the machine-readable line."""
    results = [t.result for t in run.tallies]
    checks = [(x.lost, x.duplicated) for x in (run.saturation, run.overload) if x is not None]
    figures = summary(results, extra_checks=checks)
    stress_total = sum(run.stress_rss_mb.values())
    if stress_total and stress_total > (figures["rss_total_mb"] or 0):
        figures["rss_total_mb"] = stress_total
    notify = [ms for r in results for ms in r.handoff_notify_ms]
    queued = sum(t.handoffs_queued for t in run.tallies)
    not_queued = sum(t.handoffs_not_queued for t in run.tallies)
    extra = [saturation_line(run.saturation)] if run.saturation else []
    extra += [overload_line(run.overload)] if run.overload else []
    if run.stress_rss_mb:
        extra.append(
            "Peak RSS during saturation and overload (MB): "
            + ", ".join(f"{name} {mb:.0f}" for name, mb in run.stress_rss_mb.items())
            + "."
        )
    notes = (
        f"Handoffs queued: {queued}, not queued: {not_queued} (half typed, half the "
        "button). Errors count failed or timed-out requests, claims and hand-backs."
    )
    settings = (
        f"levels {','.join(map(str, levels))}{' (quick)' if args.quick else ''}, "
        f"{messages} bot messages per conversation, {args.think_min:g}-"
        f"{args.think_max:g} s between a customer's messages (arrivals spread over one "
        f"think time), each level twice with half of the conversations through the "
        f"gateway and half direct (swapped), {args.handoff_share:.0%} ask for a person, "
        f"seed {args.seed}, one simulated agent (cap 3), "
        + (
            "direct conversations: messages only"
            if args.bare_direct
            else "direct conversations are opened like the web app opens one "
            "(tracker events + action_session_start, not timed)"
        )
    )
    section = render_report(
        results,
        date=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        machine=machine_description(),
        settings=settings,
        training=training,
        figures=figures,
        goal_rows=goals(
            figures, max(notify) if notify else None, run.overload.errors if run.overload else None
        ),
        extra=extra,
        notes=notes,
    )
    return section, machine_line(figures)


if __name__ == "__main__":
    sys.exit(main())
