"""`make chaos` as a user runs it, shortened (--quick): the stack starts under the
supervisor of `make run`, each process is killed once under a light load, and nothing
acknowledged is lost and nobody is left without an answer or an honest notice."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.bench]

LAST_LINE = re.compile(r"^recovery_s_max=(\d+\.\d|inf) lost=(\d+) without_notice=(\d+)$")
ROW = re.compile(
    r"^\| (action server|Rasa server|web app) \| (\d+\.\d|never) \| (\d+) \| "
    r"(\d+) \| (\d+) \| (\d+) \|$",
    re.MULTILINE,
)


def test_quick_chaos_kills_each_process_and_nobody_is_lost_or_left_uninformed(
    trained_model: Path,
) -> None:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, "-m", "tools.benchmark.chaos", "--quick", "--model", str(trained_model)],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    match = LAST_LINE.match(done.stdout.strip().splitlines()[-1])
    assert match, output[-2000:]
    assert match.group(1) != "inf" and (match.group(2), match.group(3)) == ("0", "0")
    rows = {
        name: (recovery, lost, silent, agent_chat)
        for name, recovery, _, lost, silent, agent_chat in ROW.findall(done.stdout)
    }
    assert set(rows) == {"action server", "Rasa server", "web app"}, done.stdout
    for name, (recovery, lost, silent, _) in rows.items():
        assert recovery != "never" and lost == "0" and silent == "0", (name, rows)
    # A chat with a person goes on while Rasa or the action server is down.
    assert rows["action server"][3] == "0" and rows["Rasa server"][3] == "0", rows
    # The supervisor restarted each one and said so (the web app never went down with Rasa).
    for name in ("action server", "Rasa server", "web app"):
        assert f"The {name} stopped (exit code -9); restarting it now" in done.stdout
        assert f"The {name} is up again" in done.stdout
    # How fast each came back is a figure `make chaos` prints against its goal, not a
    # test: on a busy 2-core machine it varies by seconds.
