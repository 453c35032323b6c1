"""The scaled benchmark: `python -m tools.benchmark.bench_scaled` (`make bench SCALED=1`).

Runs the same timetable on two stacks on Redis + PostgreSQL, one after the other on the
same machine: 1 web worker + 1 Rasa server, then 2 web workers + 2 Rasa servers (one
action server each time). Conversations are spread over the web workers as a load
balancer would; the simulated agent works on the first worker's desk. For each stack:
p95 latency (customer message -> bot reply) at 50 and 100 paced conversations, replies per
second at saturation (closed loop), lost and duplicated messages against the database,
peak memory per process, and the CPU seconds each process used during saturation (what
limits the gain on a small machine). Appends a section to BENCHMARKS.md; the last line is
machine-readable:

    scaled_ratio=1.12 single_msgs_per_s=14.1 scaled_msgs_per_s=15.8 lost=0 duplicated=0
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tools.benchmark.bench import REPORT, Sampler, process_tree, write_report
from tools.benchmark.bench_sim import Clock, Desk, Plan, Tally, bounded, gateway_customer
from tools.benchmark.bench_stats import LevelResult, check_messages, machine_description, percentile
from tools.benchmark.chaos import UNLIMITED
from tools.stack.runner import MODEL, Service
from tools.stack.scaled import ScaledStack, sandbox, stored_messages

TOKEN = "bench-scaled-rasa-token"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_tree_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its descendants."""
    total = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def cpu_by_service(services: list[Service]) -> dict[str, float]:
    """CPU seconds so far of each running service."""
    return {
        s.name: cpu_tree_s(s.process.pid)
        for s in services
        if s.process is not None and s.process.poll() is None
    }


@dataclass
class StackResult:
    """What one stack measured."""

    workers: int
    rasa_servers: int
    p95_ms: dict[int, float | None] = field(default_factory=dict)
    saturation_msgs_per_s: float | None = None
    saturation_s: float = 0.0
    cpu_s: dict[str, float] = field(default_factory=dict)
    rss_mb: dict[str, float] = field(default_factory=dict)
    errors: int = 0
    lost: int = 0
    duplicated: int = 0
    notes: list[str] = field(default_factory=list)


async def _customers(
    http: aiohttp.ClientSession,
    bases: list[str],
    desk: Desk,
    plan: Plan,
    tally: Tally,
    clock: Clock,
    timeout_s: float,
    what: str,
) -> None:
    t0 = now = time.monotonic()
    clock.start = clock.last = now
    customers = [
        gateway_customer(http, bases[i % len(bases)], plan, i, desk, tally, clock, t0)
        for i in range(len(plan.scripts))
    ]
    await bounded(customers, timeout_s, tally, what)


async def measure(stack: ScaledStack, args: argparse.Namespace) -> StackResult:
    """The paced levels, then saturation, on ``stack`` (already started)."""
    result = StackResult(len(stack.web_urls), len(stack.rasa_urls))
    bases = stack.web_urls
    sampler = Sampler(stack.services)
    sent = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        desk = Desk(http, bases[0])
        await desk.start()
        sampling = asyncio.ensure_future(sampler.run())
        try:
            warm = Tally(LevelResult(0))  # not measured: the first messages load graphs
            await _customers(
                http, bases, desk, Plan.make(4, 2, 0.0, args.seed), warm, Clock(), 120, "warm-up"
            )
            think = (args.think_min, args.think_max)
            for level in args.levels:
                print(f"  {level} conversations on the timetable ...", flush=True)
                plan = Plan.make(level, args.messages, args.handoff_share, args.seed, think)
                tally = Tally(LevelResult(level))
                await _customers(
                    http, bases, desk, plan, tally, Clock(), args.phase_timeout, f"level {level}"
                )
                result.p95_ms[level] = percentile(tally.result.gateway_ms, 95)
                result.errors += tally.result.errors
                result.notes += tally.notes[:3]
                sent += tally.sent
            level = max(args.levels)
            print(f"  saturation: {level} conversations, closed loop ...", flush=True)
            tally, clock = Tally(LevelResult(level)), Clock()
            before, started = cpu_by_service(stack.services), time.monotonic()
            await _customers(
                http,
                bases,
                desk,
                Plan.make(level, args.messages, 0.0, args.seed + 1),
                tally,
                clock,
                args.phase_timeout,
                "saturation",
            )
            result.saturation_s = time.monotonic() - started
            after = cpu_by_service(stack.services)
            result.cpu_s = {name: after[name] - before.get(name, 0.0) for name in after}
            result.saturation_msgs_per_s = clock.rate()
            result.errors += tally.result.errors
            result.notes += tally.notes[:3]
            sent += tally.sent
        finally:
            sampling.cancel()
            await asyncio.gather(sampling, return_exceptions=True)
            await desk.stop()
    result.rss_mb = dict(sampler.peak)
    rows = [(cid, author, text) for cid, _, author, text in stored_messages(stack.database_url)]
    result.lost, result.duplicated = check_messages(sent, rows)
    return result


def run_stack(workers: int, rasa_servers: int, args: argparse.Namespace) -> StackResult:
    """Start a stack of that size in a temporary folder, measure it, stop it."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-scaled-{workers}x{rasa_servers}-"))
    print(f"{workers} web worker(s) + {rasa_servers} Rasa server(s) (logs in {folder}) ...")
    stack = sandbox(folder, args.model, TOKEN, UNLIMITED, workers, rasa_servers)
    try:
        stack.start()
        return asyncio.run(measure(stack, args))
    finally:
        for service in reversed(stack.services):
            service.stop()
        stack.cluster.stop("immediate")
        if not args.keep_logs:
            shutil.rmtree(folder, ignore_errors=True)


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def report(single: StackResult, scaled: StackResult, args: argparse.Namespace) -> tuple[str, str]:
    """The BENCHMARKS.md section and the machine-readable line."""
    one, two = single.saturation_msgs_per_s, scaled.saturation_msgs_per_s
    ratio = two / one if one and two else None
    lines = [
        f"## Scaled run {dt.datetime.now():%Y-%m-%d %H:%M}: 2 web workers + 2 Rasa vs 1 + 1",
        "",
        f"Machine: {machine_description()}. Both stacks on Redis + PostgreSQL, one action "
        f"server, the same timetable ({args.messages} bot messages per conversation, "
        f"{args.think_min:g}-{args.think_max:g} s think, {args.handoff_share:.0%} ask for a "
        f"person, seed {args.seed}); conversations spread over the workers.",
        "",
        "| stack | "
        + " | ".join(f"p95 at {level} (ms)" for level in args.levels)
        + " | replies/s at saturation | errors | lost | duplicated |",
        "|---|" + "---|" * (len(args.levels) + 4),
    ]
    for result in (single, scaled):
        rate = result.saturation_msgs_per_s
        lines.append(
            f"| {result.workers} web + {result.rasa_servers} Rasa | "
            + " | ".join(_ms(result.p95_ms.get(level)) for level in args.levels)
            + f" | {'–' if rate is None else f'{rate:.1f}'}"
            f" | {result.errors} | {result.lost} | {result.duplicated} |"
        )
    lines += ["", f"Ratio of replies/s at saturation (2+2 / 1+1): {_ratio(ratio)}.", ""]
    added = {
        name: mb
        for name, mb in scaled.rss_mb.items()
        if name.endswith(" 2")  # the processes the 2+2 stack adds
    }
    lines.append(
        "Extra memory per added process (peak RSS): "
        + ", ".join(f"{name} {mb:.0f} MB" for name, mb in added.items())
        + "."
    )
    for result in (single, scaled):
        busy = sorted(result.cpu_s.items(), key=lambda item: -item[1])
        cores = sum(result.cpu_s.values()) / result.saturation_s if result.saturation_s else 0
        lines.append(
            f"CPU during saturation, {result.workers}+{result.rasa_servers} "
            f"({result.saturation_s:.0f} s, {cores:.2f} cores busy on average of "
            f"{os.cpu_count()}): "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in busy)
            + "."
        )
    for note in single.notes[:3] + scaled.notes[:3]:
        lines.append(f"Note: {note}")
    lost = single.lost + scaled.lost
    duplicated = single.duplicated + scaled.duplicated
    line = (
        f"scaled_ratio={_ratio(ratio)} single_msgs_per_s={one or 0:.1f} "
        f"scaled_msgs_per_s={two or 0:.1f} lost={lost} duplicated={duplicated}"
    )
    return "\n".join(lines) + "\n", line


def _ratio(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.2f}"


def main(argv: list[str] | None = None) -> int:
    """Measure 1+1, then 2+2, and report."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--levels", default="50,100", help="paced conversations")
    parser.add_argument("--messages", type=int, default=3)
    parser.add_argument("--think-min", type=float, default=4.0)
    parser.add_argument("--think-max", type=float, default=12.0)
    parser.add_argument("--handoff-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--phase-timeout", type=float, default=240.0)
    parser.add_argument("--quick", action="store_true", help="levels 4,8, 2 messages")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args(argv)
    args.levels = [int(x) for x in ("4,8" if args.quick else args.levels).split(",")]
    if args.quick:
        args.messages, args.think_min, args.think_max = 2, 1.0, 2.0
    if not args.model.exists():
        print(f"No trained model at {args.model}: run `make train` first.", file=sys.stderr)
        return 1
    try:
        single = run_stack(1, 1, args)
        scaled = run_stack(2, 2, args)
    except RuntimeError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130
    section, line = report(single, scaled, args)
    if not args.quick:
        write_report(section, args.report)
    print(section)
    print(line)
    return 0 if line.endswith("lost=0 duplicated=0") else 1


if __name__ == "__main__":
    sys.exit(main())
