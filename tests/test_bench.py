"""The pure parts of `python -m tools.bench` (no stack)."""

from __future__ import annotations

import random
import re

import pytest

from tools.bench_sim import Plan, script
from tools.bench_stats import (
    LevelResult,
    Sent,
    check_messages,
    goals,
    machine_description,
    machine_line,
    percentile,
    render_report,
    render_table,
    summary,
)

LINE = re.compile(
    r"^gateway_p95_ratio=(\d+\.\d{2}|nan) agent_delivery_p95_ms=(\d+|nan) lost=\d+ "
    r"duplicated=\d+ rss_total_mb=(\d+|nan)$"
)


def test_percentiles_interpolate_linearly():
    values = list(range(1, 101))  # 1..100
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile(values, 0) == 1 and percentile(values, 100) == 100
    assert percentile([7.0], 95) == 7.0
    assert percentile([3, 1, 2], 50) == 2  # order does not matter
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_every_sent_message_stored_once_is_clean():
    sent = [Sent("c1", "customer", "hi"), Sent("c1", "customer", "hi"),
            Sent("c1", "agent", "on it"), Sent("c2", "customer", "refund?")]
    rows = [("c1", "bot", "disclosure"), ("c1", "customer", "hi"), ("c1", "customer", "hi"),
            ("c1", "agent", "on it"), ("c2", "customer", "refund?"), ("c2", "bot", "answer"),
            ("other", "customer", "hi")]  # not ours: ignored
    assert check_messages(sent, rows) == (0, 0)


def test_lost_and_duplicated_messages_are_counted():
    sent = [Sent("c1", "customer", "hi"), Sent("c1", "customer", "hi"),
            Sent("c1", "customer", "where is my order?"), Sent("c2", "agent", "hello")]
    rows = [("c1", "customer", "hi"),                                  # one "hi" lost
            ("c1", "customer", "where is my order?"),
            ("c1", "customer", "where is my order?"),                  # duplicated
            ("c2", "agent", "hello"), ("c2", "agent", "hello"),
            ("c2", "agent", "hello")]                                  # two duplicates
    assert check_messages(sent, rows) == (1, 3)


def test_an_unacknowledged_send_may_or_may_not_be_stored():
    sent = [Sent("c1", "customer", "hi", acked=False)]
    assert check_messages(sent, []) == (0, 0)
    assert check_messages(sent, [("c1", "customer", "hi")]) == (0, 0)
    assert check_messages(sent, [("c1", "customer", "hi")] * 2) == (0, 1)


def level(n, gateway, direct, **extra):
    return LevelResult(n, gateway_ms=gateway, direct_ms=direct, **extra)


def test_machine_line_has_the_exact_format():
    results = [
        level(10, [100.0] * 20, [100.0] * 20, agent_delivery_ms=[5.0, 12.0],
              rss_mb={"Rasa server": 1200.0, "web app": 100.0}),
        level(50, [212.0] * 20, [200.0] * 20, agent_delivery_ms=[8.0], lost=1, duplicated=2,
              rss_mb={"Rasa server": 1700.4, "web app": 200.0}),
    ]
    line = machine_line(summary(results))
    assert LINE.match(line), line
    assert line == ("gateway_p95_ratio=1.06 agent_delivery_p95_ms=12 lost=1 duplicated=2 "
                    "rss_total_mb=1900")


def test_machine_line_without_measurements():
    line = machine_line(summary([level(2, [], [])]))
    assert LINE.match(line), line
    assert line.startswith("gateway_p95_ratio=nan agent_delivery_p95_ms=nan lost=0")


def test_ratio_uses_level_50_else_the_highest():
    only_small = [level(2, [110.0], [100.0]), level(5, [120.0], [100.0])]
    assert summary(only_small)["gateway_p95_ratio"] == pytest.approx(1.2)
    with_50 = only_small + [level(50, [105.0], [100.0]), level(100, [300.0], [100.0])]
    assert summary(with_50)["gateway_p95_ratio"] == pytest.approx(1.05)


def test_markdown_table_has_a_row_per_level_and_aligned_columns():
    results = [level(10, [90.0, 100.0, 110.0], [80.0, 90.0, 100.0], gateway_msgs_per_s=12.34,
                     direct_msgs_per_s=13.0, agent_delivery_ms=[10.0, 20.0],
                     handoff_notify_ms=[100.0, 300.0], rss_mb={"web app": 95.6}),
               level(50, [], [])]
    table = render_table(results).splitlines()
    assert len(table) == 4
    assert {line.count("|") for line in table} == {12}
    assert table[1].startswith("|---|")
    row = table[2]
    assert row.startswith("| 10 | 100/109/110 | 90/99/100 | 1.10 | 12.3 (13.0) | 15/20 | 200/300 ")
    assert row.endswith("| 0 | 0 | 0 | web app 96 |")
    assert table[3].startswith("| 50 | –/–/– | –/–/– | – |")


def test_report_names_the_machine_and_the_goals():
    results = [level(50, [105.0], [100.0], agent_delivery_ms=[10.0], handoff_notify_ms=[90.0],
                     rss_mb={"Rasa server": 3000.0})]
    figures = summary(results)
    rows = goals(figures, 90.0, 3000.0)
    assert [ok for _, ok in rows] == [True, True, True, True, False]
    text = render_report(results, date="2024-01-01 10:00", machine="2 cores", settings="s",
                         training="not measured in this run", figures=figures, goal_rows=rows)
    assert "## Run of 2024-01-01 10:00" in text and "- Machine: 2 cores" in text
    assert "every process < 2.5 GB RSS: MISSED" in text
    assert machine_line(figures) in text


def test_machine_description_reads_proc_texts():
    cpuinfo = ("processor\t: 0\nmodel name\t: Test CPU 3000\n\n"
               "processor\t: 1\nmodel name\t: Test CPU 3000\n")
    meminfo = "MemTotal:       8388608 kB\nMemFree: 1 kB\n"
    text = machine_description(cpuinfo, meminfo)
    assert text.startswith("2 cores, 8.0 GB RAM, Test CPU 3000, Python 3.")


def test_plans_are_reproducible_and_about_one_in_ten_asks_for_a_person():
    plan = Plan.make(100, 4, 0.1, seed=6)
    assert plan == Plan.make(100, 4, 0.1, seed=6)
    assert sum(plan.handoff) == 10 and len(plan.scripts) == 100
    assert all(len(texts) == 4 for texts in plan.scripts)
    assert sum(Plan.make(2, 2, 0.1, seed=6).handoff) == 1
    assert sum(Plan.make(5, 2, 0.0, seed=6).handoff) == 0
    assert len(script(random.Random(1), 1)) == 1
