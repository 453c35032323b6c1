"""The supervisor of `make run` with real (small) processes: restart, backoff, give up."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from tools.stack.runner import Service, free_port
from tools.stack.supervisor import Supervisor

# Real processes, started and killed: seconds each.
pytestmark = pytest.mark.integration


def web_server(name: str, folder: Path) -> Service:
    """A real process answering HTTP, like the stack's services."""
    port = free_port()
    return Service(
        name,
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(folder),
        ],
        f"http://127.0.0.1:{port}/",
        folder / f"{name}.log",
    )


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_killed_process_is_restarted_and_the_others_keep_running(tmp_path: Path) -> None:
    rasa, web = web_server("rasa", tmp_path), web_server("web", tmp_path)
    said: list[str] = []
    for service in (rasa, web):
        service.start(dict(os.environ))
    try:
        wait_for(lambda: rasa.healthy() and web.healthy())
        supervisor = Supervisor(
            [rasa, web],
            {"rasa": dict(os.environ), "web": dict(os.environ)},
            backoff_s=(0.5, 1.0),
            poll_s=0.05,
            say=said.append,
        )
        result: list[int] = []
        thread = threading.Thread(target=lambda: result.append(supervisor.run()))
        thread.start()
        first_rasa, first_web = rasa.process.pid, web.process.pid
        os.kill(first_rasa, signal.SIGKILL)
        wait_for(lambda: any("is up again" in line for line in said))
        assert rasa.process.pid != first_rasa and rasa.healthy()
        assert web.process.pid == first_web and web.exit_code() is None and web.healthy()
        assert said[0].startswith("The rasa stopped (exit code -9); restarting it in 0.5 s")
        assert said[1] == "Restarting the rasa ..."
        assert supervisor.restarts == {"rasa": 1, "web": 0}

        # A second failure waits longer.
        os.kill(rasa.process.pid, signal.SIGKILL)
        wait_for(lambda: supervisor.restarts["rasa"] == 2)
        assert any("restarting it in 1 s (exit 2 of" in line for line in said)

        supervisor.stop()  # what Ctrl-C does in `make run`
        thread.join(10)
        assert result == [0]
        assert web.exit_code() is None  # stopping the processes is the caller's job
    finally:
        for service in (rasa, web):
            service.stop()


def test_the_first_restart_is_at_once_and_the_next_ones_back_off(tmp_path: Path) -> None:
    # Customers wait for the assistant while Rasa is down: a process that served and then
    # died gets no pause; one that keeps dying does.
    rasa = web_server("rasa", tmp_path)
    said: list[str] = []
    rasa.start(dict(os.environ))
    try:
        wait_for(rasa.healthy)
        supervisor = Supervisor([rasa], {"rasa": dict(os.environ)}, poll_s=0.05, say=said.append)
        thread = threading.Thread(target=supervisor.run)
        thread.start()
        os.kill(rasa.process.pid, signal.SIGKILL)
        wait_for(lambda: any("is up again" in line for line in said))
        assert said[0].startswith("The rasa stopped (exit code -9); restarting it now (exit 1 of")
        os.kill(rasa.process.pid, signal.SIGKILL)
        wait_for(lambda: supervisor.restarts["rasa"] == 2)
        assert any("restarting it in 1 s (exit 2 of" in line for line in said), said
        supervisor.stop()
        thread.join(10)
    finally:
        rasa.stop()


def test_a_process_that_keeps_failing_stops_everything_with_its_log(tmp_path: Path) -> None:
    crash = "print('boom: no such module actions.x'); raise SystemExit(3)"
    broken = Service(
        "action server",
        [sys.executable, "-c", crash],
        "http://127.0.0.1:9/",
        tmp_path / "actions.log",
    )
    said: list[str] = []
    broken.start(dict(os.environ))
    supervisor = Supervisor(
        [broken],
        {"action server": dict(os.environ)},
        backoff_s=(0.05,),
        max_failures=3,
        poll_s=0.02,
        say=said.append,
    )
    started = time.monotonic()
    assert supervisor.run() == 1
    assert time.monotonic() - started < 20
    assert supervisor.restarts == {"action server": 2}
    assert "keeps failing (3 exits within 300 s, the last with exit code 3)" in said[-1]
    assert "boom: no such module actions.x" in said[-1]
