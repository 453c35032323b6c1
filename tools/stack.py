"""Starts the assistant's processes on 127.0.0.1 and stops them together.

`python -m tools.stack` (what `make run` calls) starts the action server and the Rasa
server, waits until both answer, says how to chat with them, and on Ctrl-C stops both.
A process that dies is reported with the end of its log, and the others are stopped.
`python -m tools.stack --shell` starts the action server and opens `rasa shell`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from actions.content import PROJECT_ROOT

VAR = PROJECT_ROOT / "var"
LOGS = VAR / "logs"
MODEL = PROJECT_ROOT / "models" / "assistant.tar.gz"
STARTUP_TIMEOUT_S = 300.0


@dataclass
class Service:
    """One child process, its health URL and its log file."""

    name: str
    command: List[str]
    health_url: str
    log_path: Path
    process: Optional[subprocess.Popen] = field(default=None, repr=False)

    def start(self, env: Dict[str, str]) -> None:
        """Start the process with its output going to its log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us, and we stop it in order
        )

    def exit_code(self) -> Optional[int]:
        """None while running."""
        return self.process.poll() if self.process else None

    def healthy(self) -> bool:
        """True once the service answers its health URL."""
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after the grace period."""
        if not self.process or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of the log, to show why it stopped."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def rasa_token() -> str:
    """The token protecting Rasa's HTTP API: $RASA_TOKEN, or one kept in var/."""
    if os.environ.get("RASA_TOKEN"):
        return os.environ["RASA_TOKEN"]
    path = VAR / "rasa-token"
    if not path.exists():
        VAR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def write_endpoints(action_port: int) -> Path:
    """The endpoints Rasa uses: the action server's port and the local tracker store."""
    VAR.mkdir(parents=True, exist_ok=True)
    path = VAR / "endpoints.yml"
    path.write_text(
        "# Written by tools/stack.py from endpoints.yml; edit that one.\n"
        "action_endpoint:\n"
        f'  url: "http://127.0.0.1:{action_port}/webhook"\n'
        "tracker_store:\n"
        "  type: SQL\n"
        "  dialect: sqlite\n"
        f'  db: "{VAR / "tracker.db"}"\n'
    )
    return path


def action_service(port: int) -> Service:
    """The action server."""
    return Service(
        "action server",
        [sys.executable, "-m", "tools.action_server", "--port", str(port)],
        f"http://127.0.0.1:{port}/health",
        LOGS / "actions.log",
    )


def rasa_service(port: int, endpoints: Path, token: str) -> Service:
    """The Rasa server (REST channel and the token-protected HTTP API)."""
    rasa = str(Path(sys.executable).with_name("rasa"))
    return Service(
        "Rasa server",
        [rasa, "run", "--enable-api", "--auth-token", token, "-i", "127.0.0.1",
         "-p", str(port), "-m", str(MODEL), "--endpoints", str(endpoints),
         "--credentials", str(PROJECT_ROOT / "credentials.yml")],
        f"http://127.0.0.1:{port}/",
        LOGS / "rasa.log",
    )


def wait_until_healthy(services: List[Service]) -> None:
    """Block until every service answers; raise if one dies or time runs out."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    pending = list(services)
    while pending:
        for service in list(pending):
            code = service.exit_code()
            if code is not None:
                raise RuntimeError(died_message(service, code))
            if service.healthy():
                print(f"  {service.name} is up ({service.health_url})", flush=True)
                pending.remove(service)
        if time.monotonic() > deadline:
            names = ", ".join(s.name for s in pending)
            raise RuntimeError(f"{names} did not start within {STARTUP_TIMEOUT_S:.0f} s")
        time.sleep(0.5)


def died_message(service: Service, code: int) -> str:
    """What to tell the user when a process stopped."""
    return (
        f"The {service.name} stopped (exit code {code}). "
        f"Last lines of {service.log_path}:\n{service.log_tail()}"
    )


def supervise(services: List[Service]) -> int:
    """Wait for Ctrl-C or for a process to die; report which."""
    try:
        while True:
            for service in services:
                code = service.exit_code()
                if code is not None:
                    print(died_message(service, code), file=sys.stderr)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: Optional[List[str]] = None) -> int:
    """Start the stack (or the shell), and stop everything on the way out."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shell", action="store_true", help="chat in this terminal")
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    parser.add_argument("--action-port", type=int, default=int(os.environ.get("ACTION_PORT", 5055)))
    args = parser.parse_args(argv)
    if not MODEL.exists():
        print(f"No trained model at {MODEL}: run `make train` first.", file=sys.stderr)
        return 1

    env = dict(os.environ)
    endpoints = write_endpoints(args.action_port)
    actions = action_service(args.action_port)
    services = [actions]
    if not args.shell:
        services.append(rasa_service(args.rasa_port, endpoints, rasa_token()))
    # SIGTERM (e.g. from a test or a service manager) stops cleanly, like Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"Starting (logs in {LOGS}) ...", flush=True)
    try:
        for service in services:
            service.start(env)
        wait_until_healthy(services)
        if args.shell:
            rasa = str(Path(sys.executable).with_name("rasa"))
            return subprocess.call(
                [rasa, "shell", "-m", str(MODEL), "--endpoints", str(endpoints)],
                cwd=PROJECT_ROOT,
            )
        print_how_to_chat(args.rasa_port)
        return supervise(services)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0
    finally:
        for service in reversed(services):
            service.stop()
        print("Stopped.", flush=True)


def print_how_to_chat(rasa_port: int) -> None:
    """Tell the user how to talk to the running assistant."""
    url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
    print(
        "\nThe assistant is running. Chat with it:\n"
        f"  curl -s {url} -H 'Content-Type: application/json' \\\n"
        "       -d '{\"sender\": \"me\", \"message\": \"How do I return an item?\"}'\n"
        "  or, in another terminal: make shell\n"
        f"Rasa's HTTP API needs the token in {VAR / 'rasa-token'} (?token=...).\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
