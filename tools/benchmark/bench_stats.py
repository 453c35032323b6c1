"""Pure parts of `python -m tools.benchmark.bench`: percentiles, the loss/duplicate check, the
machine description, the markdown report and the machine-readable last line."""

from __future__ import annotations

import math
import os
import platform
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence


def percentile(values: Sequence[float], pct: float) -> float | None:
    """The ``pct`` percentile (0..100) with linear interpolation; None when empty."""
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile must be within 0..100, not {pct}")
    data = sorted(values)
    if not data:
        return None
    rank = (len(data) - 1) * pct / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(data[low])
    return data[low] + (data[high] - data[low]) * (rank - low)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


@dataclass(frozen=True)
class Sent:
    """One message the simulation sent: whose, by whom, what, and whether it was acknowledged."""

    conversation_id: str
    author: str  # "customer" or "agent"
    text: str
    acked: bool = True


def check_messages(sent: Iterable[Sent], rows: Iterable[tuple[str, str, str]]) -> tuple[int, int]:
    """(lost, duplicated) of the messages the simulation sent, against stored rows.

    ``rows`` are ``(conversation_id, author, text)`` from the ``messages`` table. Only the
    conversations and authors the simulation sent for are checked. Lost: an acknowledged
    message stored fewer times than it was acknowledged. Duplicated: stored more times than
    it was sent at all (an unacknowledged send, e.g. a timeout, may or may not be stored).
    """
    acked: Counter = Counter()
    attempted: Counter = Counter()
    for message in sent:
        key = (message.conversation_id, message.author, message.text)
        attempted[key] += 1
        if message.acked:
            acked[key] += 1
    scope = {(cid, author) for cid, author, _ in attempted}
    stored: Counter = Counter(
        (cid, author, text) for cid, author, text in rows if (cid, author) in scope
    )
    lost = sum(max(0, n - stored[key]) for key, n in acked.items())
    duplicated = sum(max(0, n - attempted[key]) for key, n in stored.items())
    return lost, duplicated


@dataclass
class LevelResult:
    """What one concurrency level measured on the paced timetable (ms unless named)."""

    level: int
    gateway_ms: list[float] = field(default_factory=list)
    direct_ms: list[float] = field(default_factory=list)
    offered_msgs_per_s: float | None = None
    agent_delivery_ms: list[float] = field(default_factory=list)
    handoff_notify_ms: list[float] = field(default_factory=list)
    errors: int = 0
    lost: int = 0
    duplicated: int = 0
    rss_mb: dict[str, float] = field(default_factory=dict)

    def gateway_p95_ratio(self) -> float | None:
        return ratio(percentile(self.gateway_ms, 95), percentile(self.direct_ms, 95))


@dataclass
class SaturationResult:
    """Closed loop, no think time: replies per second the stack and Rasa alone sustain."""

    level: int
    gateway_msgs_per_s: float | None = None
    direct_msgs_per_s: float | None = None
    gateway_ms: list[float] = field(default_factory=list)
    direct_ms: list[float] = field(default_factory=list)
    errors: int = 0
    lost: int = 0
    duplicated: int = 0


@dataclass
class OverloadResult:
    """Open-loop arrivals above saturation, through the gateway only."""

    rate: float
    seconds: float
    offered: int = 0
    sending_s: float = 0.0
    answered_ms: list[float] = field(default_factory=list)
    refused: int = 0
    refusal_example: str = ""
    errors: int = 0
    lost: int = 0
    duplicated: int = 0
    notes: list[str] = field(default_factory=list)


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _pcts(values: Sequence[float], pcts: Sequence[float] = (50, 95, 99)) -> str:
    return "/".join(_ms(percentile(values, p)) for p in pcts)


TABLE_HEADER = (
    "| level | offered msgs/s | gateway p50/p95/p99 ms | direct p50/p95/p99 ms | p95 ratio "
    "| agent→customer p50/p95 ms | handoff→desk p50/max ms | errors | lost | dup | RSS MB |"
)


def table_row(r: LevelResult) -> str:
    """One markdown table row for a level."""
    notify = (
        f"{_ms(percentile(r.handoff_notify_ms, 50))}/"
        f"{_ms(max(r.handoff_notify_ms) if r.handoff_notify_ms else None)}"
    )
    rss = ", ".join(f"{name} {mb:.0f}" for name, mb in r.rss_mb.items()) or "–"
    return (
        f"| {r.level} | {_num(r.offered_msgs_per_s, 1)} | {_pcts(r.gateway_ms)} "
        f"| {_pcts(r.direct_ms)} | {_num(r.gateway_p95_ratio())} "
        f"| {_pcts(r.agent_delivery_ms, (50, 95))} | {notify} | {r.errors} | {r.lost} "
        f"| {r.duplicated} | {rss} |"
    )


def render_table(results: Sequence[LevelResult]) -> str:
    """The run's markdown table, one row per level."""
    separator = "|" + "|".join("---" for _ in range(TABLE_HEADER.count("|") - 1)) + "|"
    return "\n".join([TABLE_HEADER, separator] + [table_row(r) for r in results])


def saturation_line(s: SaturationResult) -> str:
    """The saturation figures in one sentence."""
    return (
        f"Saturation ({s.level} conversations, closed loop, no think time): gateway "
        f"{_num(s.gateway_msgs_per_s, 1)} replies/s (p50/p95/p99 {_pcts(s.gateway_ms)} ms), "
        f"Rasa alone {_num(s.direct_msgs_per_s, 1)} replies/s (p50/p95/p99 "
        f"{_pcts(s.direct_ms)} ms); throughput ratio "
        f"{_num(ratio(s.gateway_msgs_per_s, s.direct_msgs_per_s))}; errors {s.errors}, "
        f"lost {s.lost}, duplicated {s.duplicated}."
    )


def overload_line(o: OverloadResult) -> str:
    """The overload figures in one sentence."""
    answered = len(o.answered_ms)
    slowest = max(o.answered_ms) if o.answered_ms else None
    example = f' (e.g. "{o.refusal_example}")' if o.refusal_example else ""
    return (
        f"Overload ({o.rate:.1f} msgs/s, twice saturation, offered open loop for "
        f"{o.seconds:.0f} s; sent in {o.sending_s:.1f} s): {o.offered} messages, "
        f"{answered} answered (p50/p95/max {_pcts(o.answered_ms, (50, 95))}/{_ms(slowest)} ms), "
        f"{o.refused} refused with a clear answer{example}, {o.errors} without a clear "
        f"answer; lost {o.lost}, duplicated {o.duplicated}."
    )


def summary(
    results: Sequence[LevelResult],
    ratio_level: int = 50,
    extra_checks: Sequence[tuple[int, int]] = (),
) -> dict[str, float | None]:
    """The headline figures: p95 ratio at ``ratio_level`` (else the highest level run),
    agent delivery p95 over all levels, lost/duplicated totals (with the ``(lost, dup)``
    of the saturation and overload runs), peak total RSS (sum of the processes' peaks)."""
    agent = [ms for r in results for ms in r.agent_delivery_ms]
    rss = [sum(r.rss_mb.values()) for r in results if r.rss_mb]
    at = next(
        (r for r in results if r.level == ratio_level),
        max(results, key=lambda r: r.level) if results else None,
    )
    return {
        "gateway_p95_ratio": at.gateway_p95_ratio() if at else None,
        "agent_delivery_p95_ms": percentile(agent, 95),
        "lost": sum(r.lost for r in results) + sum(lost for lost, _ in extra_checks),
        "duplicated": (sum(r.duplicated for r in results) + sum(dup for _, dup in extra_checks)),
        "rss_total_mb": max(rss) if rss else None,
    }


def machine_line(figures: dict[str, float | None]) -> str:
    """``gateway_p95_ratio=1.06 agent_delivery_p95_ms=12 lost=0 duplicated=0 rss_total_mb=1900``
    (``nan`` for a figure that was not measured)."""

    def fmt(value: float | None, digits: int) -> str:
        return "nan" if value is None else f"{value:.{digits}f}"

    return (
        f"gateway_p95_ratio={fmt(figures['gateway_p95_ratio'], 2)} "
        f"agent_delivery_p95_ms={fmt(figures['agent_delivery_p95_ms'], 0)} "
        f"lost={int(figures['lost'] or 0)} duplicated={int(figures['duplicated'] or 0)} "
        f"rss_total_mb={fmt(figures['rss_total_mb'], 0)}"
    )


def machine_description(cpuinfo: str | None = None, meminfo: str | None = None) -> str:
    """Cores, RAM, CPU model and Python version, from /proc (or the texts given)."""
    if cpuinfo is None:
        cpuinfo = _read("/proc/cpuinfo")
    if meminfo is None:
        meminfo = _read("/proc/meminfo")
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in cpuinfo.splitlines()
            if line.lower().startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    cores = sum(1 for line in cpuinfo.splitlines() if line.startswith("processor")) or (
        os.cpu_count() or 0
    )
    kb = next(
        (int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal:")), 0
    )
    return (
        f"{cores} cores, {kb / 1024 / 1024:.1f} GB RAM, {model}, Python {platform.python_version()}"
    )


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def goals(
    figures: dict[str, float | None],
    notify_max_ms: float | None,
    overload_unclear: int | None = None,
) -> list[tuple[str, bool | None]]:
    """Each goal and whether it was met (None: not measured)."""

    def check(value: float | None, ok) -> bool | None:
        return None if value is None else bool(ok(value))

    return [
        (
            "gateway p95 within 1.10x Rasa alone (at 50 concurrent, else the highest level)",
            check(figures["gateway_p95_ratio"], lambda v: v <= 1.10),
        ),
        ("agent→customer p95 < 50 ms", check(figures["agent_delivery_p95_ms"], lambda v: v < 50)),
        ("handoff→desk < 1 s (slowest)", check(notify_max_ms, lambda v: v < 1000)),
        ("0 lost, 0 duplicated", (figures["lost"] or 0) == 0 and (figures["duplicated"] or 0) == 0),
        (
            "at twice saturation every message answered or refused with a clear answer",
            check(overload_unclear, lambda v: v == 0),
        ),
        ("all processes together < 2.5 GB RSS", check(figures["rss_total_mb"], lambda v: v < 2560)),
    ]


def render_report(
    results: Sequence[LevelResult],
    *,
    date: str,
    machine: str,
    settings: str,
    training: str,
    figures: dict[str, float | None],
    goal_rows: Sequence[tuple[str, bool | None]],
    extra: Sequence[str] = (),
    notes: str = "",
) -> str:
    """The BENCHMARKS.md section of one run."""
    mark = {True: "met", False: "MISSED", None: "not measured"}
    lines = [
        f"## Run of {date}",
        "",
        f"- Machine: {machine}",
        f"- Settings: {settings}",
        f"- Model training time: {training}",
        "",
        render_table(results),
        "",
        *[line for sentence in extra for line in (sentence, "")],
        "Goals: " + "; ".join(f"{name}: {mark[ok]}" for name, ok in goal_rows),
        "",
        f"`{machine_line(figures)}`",
    ]
    if notes:
        lines += ["", notes]
    return "\n".join(lines) + "\n"
