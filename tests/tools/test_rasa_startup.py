"""`python -m tools.benchmark.rasa_startup` as the developer runs it: how long a started
Rasa takes to answer, its memory, and where the start-up time goes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools.benchmark.rasa_startup import main

ROOT = Path(__file__).resolve().parents[2]
LAST_LINE = re.compile(r"^rasa_ready_s=(\d+\.\d) rss_mb=(\d+)$")
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}


def startup(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.benchmark.rasa_startup", *args],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.integration
@pytest.mark.bench
def test_it_reports_the_time_to_answer_the_memory_and_each_component(
    trained_model: Path,
) -> None:
    done = startup("--runs", "1", "--model", str(trained_model))
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    match = LAST_LINE.match(done.stdout.strip().splitlines()[-1])
    assert match, done.stdout[-2000:]
    assert float(match.group(1)) > 0 and int(match.group(2)) > 100  # a real Rasa process
    assert re.search(r"^run 1: answers after \d+\.\d s, RSS \d+ MB$", done.stdout, re.M)
    # The breakdown names the imports and every component of config.yml it loaded.
    for phase in ("import tensorflow", "unpack the model archive", "Agent.load in all"):
        assert phase in done.stdout
    for component in ("ShopIntentClassifier", "FallbackClassifier", "RulePolicy"):
        assert re.search(rf"^ +\d+\.\d\d s  load {component}$", done.stdout, re.M), component


def test_a_missing_model_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--model", str(tmp_path / "none.tar.gz")]) == 2
    error = capsys.readouterr().err
    assert "No trained model at" in error and "make train" in error
