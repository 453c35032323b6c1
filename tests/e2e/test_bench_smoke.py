"""`make bench` as a user runs it, shortened (--quick): the whole stack starts, customers and
an agent talk over the real API and websockets, and the report and last line come out."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.bench]

LAST_LINE = re.compile(
    r"^gateway_p95_ratio=(\d+\.\d{2}) agent_delivery_p95_ms=(\d+) lost=0 duplicated=0 "
    r"rss_total_mb=(\d+)$"
)


def test_quick_bench_runs_the_stack_and_reports(trained_model: Path, tmp_path: Path) -> None:
    report, plot = tmp_path / "BENCHMARKS.md", tmp_path / "latency.png"
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.benchmark.bench",
            "--quick",
            "--model",
            str(trained_model),
            "--report",
            str(report),
            "--plot",
            str(plot),
        ],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    match = LAST_LINE.match(last)
    assert match, last
    assert float(match.group(1)) > 0 and int(match.group(3)) > 500  # Rasa alone is ~1.2 GB
    text = report.read_text()
    assert text.startswith("# Benchmarks") and "## Run of " in text
    assert "| 2 | " in text and "| 5 | " in text  # a row per level
    assert "Saturation (5 conversations" in text and "Overload (" in text
    assert ", 0 without a clear answer; lost 0, duplicated 0." in text
    assert "Handoffs queued: 2, not queued: 0" in text
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
