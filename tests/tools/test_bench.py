"""The pure parts of `python -m tools.benchmark.bench` (no stack)."""

from __future__ import annotations

import random
import re

import pytest

from tools.benchmark.bench_sim import Plan, classify, script
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
    percentile,
    render_report,
    render_table,
    saturation_line,
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
    sent = [
        Sent("c1", "customer", "hi"),
        Sent("c1", "customer", "hi"),
        Sent("c1", "agent", "on it"),
        Sent("c2", "customer", "refund?"),
    ]
    rows = [
        ("c1", "bot", "disclosure"),
        ("c1", "customer", "hi"),
        ("c1", "customer", "hi"),
        ("c1", "agent", "on it"),
        ("c2", "customer", "refund?"),
        ("c2", "bot", "answer"),
        ("other", "customer", "hi"),
    ]  # not ours: ignored
    assert check_messages(sent, rows) == (0, 0)


def test_lost_and_duplicated_messages_are_counted():
    sent = [
        Sent("c1", "customer", "hi"),
        Sent("c1", "customer", "hi"),
        Sent("c1", "customer", "where is my order?"),
        Sent("c2", "agent", "hello"),
    ]
    rows = [
        ("c1", "customer", "hi"),  # one "hi" lost
        ("c1", "customer", "where is my order?"),
        ("c1", "customer", "where is my order?"),  # duplicated
        ("c2", "agent", "hello"),
        ("c2", "agent", "hello"),
        ("c2", "agent", "hello"),
    ]  # two duplicates
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
        level(
            10,
            [100.0] * 20,
            [100.0] * 20,
            agent_delivery_ms=[5.0, 12.0],
            rss_mb={"Rasa server": 1200.0, "web app": 100.0},
        ),
        level(
            50,
            [212.0] * 20,
            [200.0] * 20,
            agent_delivery_ms=[8.0],
            lost=1,
            duplicated=2,
            rss_mb={"Rasa server": 1700.4, "web app": 200.0},
        ),
    ]
    line = machine_line(summary(results))
    assert LINE.match(line), line
    assert line == (
        "gateway_p95_ratio=1.06 agent_delivery_p95_ms=12 lost=1 duplicated=2 rss_total_mb=1900"
    )


def test_machine_line_without_measurements():
    line = machine_line(summary([level(2, [], [])]))
    assert LINE.match(line), line
    assert line.startswith("gateway_p95_ratio=nan agent_delivery_p95_ms=nan lost=0")


def test_ratio_uses_level_50_else_the_highest():
    only_small = [level(2, [110.0], [100.0]), level(5, [120.0], [100.0])]
    assert summary(only_small)["gateway_p95_ratio"] == pytest.approx(1.2)
    with_50 = only_small + [level(50, [105.0], [100.0]), level(100, [300.0], [100.0])]
    assert summary(with_50)["gateway_p95_ratio"] == pytest.approx(1.05)


def test_losses_of_saturation_and_overload_count_in_the_totals():
    figures = summary([level(10, [1.0], [1.0], lost=1)], extra_checks=[(0, 2), (3, 0)])
    assert (figures["lost"], figures["duplicated"]) == (4, 2)


def test_markdown_table_has_a_row_per_level_and_aligned_columns():
    results = [
        level(
            10,
            [90.0, 100.0, 110.0],
            [80.0, 90.0, 100.0],
            offered_msgs_per_s=1.25,
            agent_delivery_ms=[10.0, 20.0],
            handoff_notify_ms=[100.0, 300.0],
            rss_mb={"web app": 95.6},
        ),
        level(50, [], []),
    ]
    table = render_table(results).splitlines()
    assert len(table) == 4
    assert {line.count("|") for line in table} == {12}
    assert table[1].startswith("|---|")
    row = table[2]
    assert row.startswith("| 10 | 1.2 | 100/109/110 | 90/99/100 | 1.10 | 15/20 | 200/300 ")
    assert row.endswith("| 0 | 0 | 0 | web app 96 |")
    assert table[3].startswith("| 50 | – | –/–/– | –/–/– | – |")


def test_saturation_and_overload_sentences_carry_their_figures():
    sat = saturation_line(SaturationResult(100, 18.0, 20.0, [100.0] * 10, [90.0] * 10))
    assert "gateway 18.0 replies/s" in sat and "Rasa alone 20.0 replies/s" in sat
    assert "throughput ratio 0.90" in sat
    over = OverloadResult(
        rate=36.0,
        seconds=15.0,
        offered=540,
        sending_s=15.0,
        answered_ms=[200.0, 400.0],
        refused=538,
        refusal_example="The assistant is very busy right now.",
    )
    text = overload_line(over)
    assert "36.0 msgs/s" in text and "540 messages, 2 answered" in text
    assert 'refused with a clear answer (e.g. "The assistant is very busy right now.")' in text
    assert "0 without a clear answer" in text


def test_report_names_the_machine_and_the_goals():
    results = [
        level(
            50,
            [105.0],
            [100.0],
            agent_delivery_ms=[10.0],
            handoff_notify_ms=[90.0],
            rss_mb={"Rasa server": 2000.0, "web app": 600.0},
        )
    ]
    figures = summary(results)
    rows = goals(figures, 90.0, overload_unclear=0)
    assert [ok for _, ok in rows] == [True, True, True, True, True, False]  # 2.6 GB together
    assert goals(figures, 90.0)[4][1] is None  # no overload run: not measured
    assert goals(figures, 1500.0, overload_unclear=3)[2][1] is False
    assert goals(figures, 1500.0, overload_unclear=3)[4][1] is False
    text = render_report(
        results,
        date="2024-01-01 10:00",
        machine="2 cores",
        settings="s",
        training="not measured in this run",
        figures=figures,
        goal_rows=rows,
        extra=["Saturation (…)"],
    )
    assert "## Run of 2024-01-01 10:00" in text and "- Machine: 2 cores" in text
    assert "all processes together < 2.5 GB RSS: MISSED" in text
    assert "\nSaturation (…)\n" in text
    assert machine_line(figures) in text


def test_machine_description_reads_proc_texts():
    cpuinfo = (
        "processor\t: 0\nmodel name\t: Test CPU 3000\n\n"
        "processor\t: 1\nmodel name\t: Test CPU 3000\n"
    )
    meminfo = "MemTotal:       8388608 kB\nMemFree: 1 kB\n"
    text = machine_description(cpuinfo, meminfo)
    assert text.startswith("2 cores, 8.0 GB RAM, Test CPU 3000, Python 3.")


def test_plans_are_reproducible_and_about_one_in_ten_asks_for_a_person():
    plan = Plan.make(100, 4, 0.1, seed=6)
    assert plan == Plan.make(100, 4, 0.1, seed=6)
    assert sum(h is not None for h in plan.handoff) == 10 and len(plan.scripts) == 100
    kinds = [h for h in plan.handoff if h]
    assert kinds.count("typed") == kinds.count("button") == 5
    assert all(len(texts) == 4 for texts in plan.scripts)
    assert sum(h is not None for h in Plan.make(2, 2, 0.1, seed=6).handoff) == 1
    assert not any(Plan.make(5, 2, 0.0, seed=6).handoff)
    assert len(script(random.Random(1), 1)) == 1


def test_a_paced_timetable_is_the_same_for_both_phases_and_offers_a_steady_rate():
    plan = Plan.make(50, 4, 0.1, seed=6, think=(4.0, 12.0))
    assert plan == Plan.make(50, 4, 0.1, seed=6, think=(4.0, 12.0))
    # Same words as the closed-loop plan: only the timing differs.
    assert plan.scripts == Plan.make(50, 4, 0.1, seed=6).scripts
    assert plan.offered_rate() == pytest.approx(50 / 8.0)
    assert all(0 <= start < 8.0 for start in plan.opens)  # arrivals over one think time
    for start, times in zip(plan.opens, plan.times):
        assert len(times) == 4 + 2  # the script, the request for a person, one more
        gaps = [b - a for a, b in zip([start] + times, times)]
        assert all(4.0 <= gap <= 12.0 for gap in gaps)


def test_a_closed_loop_plan_sends_at_once():
    plan = Plan.make(5, 3, 0.0, seed=1)
    assert plan.offered_rate() is None
    assert set(plan.opens) == {0.0} and {t for row in plan.times for t in row} == {0.0}


def test_overload_answers_are_classified_honestly():
    bot = {"replies": [{"author": "bot", "text": "Returns are free."}]}
    assert classify(201, bot) == "answered"
    busy = {
        "assistant_busy": True,
        "assistant_unavailable": True,
        "replies": [{"author": "system", "text": "The assistant is very busy"}],
    }
    assert classify(201, busy) == "refused"
    assert classify(429, {"error": "too many messages: wait 3 s"}) == "refused"
    assert classify(503, {"error": "busy"}) == "refused"
    assert classify(201, {"replies": []}) == "error"  # stored, but nobody answered
    assert classify(500, {"error": "boom"}) == "error"
    assert classify(0, None) == "error"  # timed out
