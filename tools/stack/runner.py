"""Starts the assistant's processes on 127.0.0.1 and stops them together.

`python -m tools.stack` (what `make run` calls) starts the action server, the Rasa
server and the web app (shop page with the chat widget + agent desk, in demo mode),
waits until all three answer, prints the shop and desk URLs, and on Ctrl-C (or SIGTERM)
stops them. A process that stops later is restarted with backoff and the others keep
serving (``tools.stack.supervisor``); only one that keeps failing stops everything, with the
end of its log. One that fails while starting stops everything at once (a set-up error).
`python -m tools.stack --shell` starts the action server and opens `rasa shell`.

SQLite files under var/ by default; with `DATABASE_URL=postgresql://...` the web app
and Rasa's tracker store both use that PostgreSQL database.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

import yaml

from actions.content import PROJECT_ROOT
from handoff.db import keep_private
from tools.stack.supervisor import Supervisor

VAR = PROJECT_ROOT / "var"
LOGS = VAR / "logs"
MODEL = PROJECT_ROOT / "models" / "assistant.tar.gz"
STARTUP_TIMEOUT_S = 300.0


@dataclass
class Service:
    """One child process, its health URL and its log file."""

    name: str
    command: list[str]
    health_url: str
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, env: dict[str, str]) -> None:
        """Start the process with its output going to its log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # The child keeps its own copy of the file; ours closes (restarts would leak it).
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us, and we stop it in order
            )

    def exit_code(self) -> int | None:
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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for a process about to start)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rasa_token() -> str:
    """The token protecting Rasa's HTTP API: $RASA_TOKEN, or one kept in var/."""
    if os.environ.get("RASA_TOKEN"):
        return os.environ["RASA_TOKEN"]
    path = VAR / "rasa-token"
    if not path.exists():
        keep_private(path)  # 0600 from the start, never readable by others
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


def tracker_store_yaml(database_url: str | None, sqlite_path: Path) -> str:
    """The tracker_store section: PostgreSQL when ``database_url`` names one, else SQLite."""
    if database_url and database_url.split(":", 1)[0].split("+", 1)[0] in (
        "postgresql",
        "postgres",
    ):
        url = urlsplit(database_url)
        lines = [
            "tracker_store:",
            "  type: SQL",
            "  dialect: postgresql",
            # Rasa passes `url` as the host of a SQL tracker store.
            f'  url: "{url.hostname or "127.0.0.1"}"',
            f"  port: {url.port or 5432}",
            f'  db: "{unquote(url.path.lstrip("/")) or "postgres"}"',
        ]
        if url.username:
            lines.append(f'  username: "{unquote(url.username)}"')
        if url.password:
            lines.append(f'  password: "{unquote(url.password)}"')
        return "\n".join(lines) + "\n"
    return f'tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{sqlite_path}"\n'


def write_endpoints(
    action_port: int, path: Path | None = None, database_url: str | None = None
) -> Path:
    """The endpoints Rasa uses: the action server's port and the tracker store."""
    path = path or VAR / "endpoints.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    tracker_store = tracker_store_yaml(database_url, path.parent / "tracker.db")
    if "dialect: sqlite" in tracker_store:
        keep_private(path.parent / "tracker.db")  # Rasa's conversations: owner only, 0600
    path.write_text(
        "# Written by tools/stack/runner.py from endpoints.yml; edit that one.\n"
        "action_endpoint:\n"
        f'  url: "http://127.0.0.1:{action_port}/webhook"\n' + tracker_store
    )
    return path


def action_service(port: int) -> Service:
    """The action server."""
    return Service(
        "action server",
        [sys.executable, "-m", "actions", "--port", str(port)],
        f"http://127.0.0.1:{port}/health",
        LOGS / "actions.log",
    )


def rasa_service(port: int, endpoints: Path, token: str, model: Path = MODEL) -> Service:
    """The Rasa server (REST channel and the token-protected HTTP API)."""
    rasa = str(Path(sys.executable).with_name("rasa"))
    return Service(
        "Rasa server",
        [
            rasa,
            "run",
            "--enable-api",
            "--auth-token",
            token,
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-m",
            str(model),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(PROJECT_ROOT / "credentials.yml"),
        ],
        f"http://127.0.0.1:{port}/",
        LOGS / "rasa.log",
    )


def web_service(port: int) -> Service:
    """The web app (``python -m bot``): shop page, widget, customer API, agent desk.

    Configure it through the environment given to :meth:`Service.start` (``RASA_URL``,
    ``RASA_TOKEN``, ``DATABASE_URL``, ``HANDOFF_*``, ``SMTP_*``).
    """
    return Service(
        "web app",
        [sys.executable, "-m", "bot", "--port", str(port)],
        f"http://127.0.0.1:{port}/widget.js",
        LOGS / "web.log",
    )


def web_env(base: dict[str, str], rasa_port: int, token: str, demo: bool) -> dict[str, str]:
    """The web app's environment: where Rasa is, its token, demo mode."""
    env = dict(base)
    env["RASA_URL"] = f"http://127.0.0.1:{rasa_port}"
    env["RASA_TOKEN"] = token
    if demo:
        env["HANDOFF_DEMO"] = "1"
    return env


ALWAYS_OPEN_HOURS = {
    "timezone": "UTC",
    "weekly": {day: "00:00-24:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    "summary": "every day, around the clock",
}


def always_open_shop() -> str:
    """The project's shop file (facts, wording) with support hours around the clock."""
    document = yaml.safe_load((PROJECT_ROOT / "shop.yml").read_text(encoding="utf-8"))
    return yaml.safe_dump({**document, "support_hours": ALWAYS_OPEN_HOURS}, allow_unicode=True)


def sandbox_web_env(
    base: dict[str, str], folder: Path, rasa_port: int, token: str
) -> dict[str, str]:
    """The web app's environment for a throw-away stack in `folder` (tests, benchmarks):
    its own database, open around the clock (so nothing depends on the day or hour it
    runs), the demo agent, and no auto-assignment (the caller's agent claims chats)."""
    shop = folder / "shop.yml"
    shop.write_text(always_open_shop(), encoding="utf-8")
    env = web_env(base, rasa_port, token, demo=True)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'app.db'}",
            "HANDOFF_DATA_DIR": str(folder / "var"),
            "HANDOFF_SHOP_FILE": str(shop),
            "HANDOFF_AUTO_ASSIGN": "0",
        }
    )
    return env


def wait_until_healthy(services: list[Service]) -> None:
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


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def run_until_stopped(run: Callable[[], int], stop: Callable[[], None]) -> int:
    """``run()`` (start, then supervise) and ``stop()`` after, whatever happens: a
    process that failed to start is reported (exit 1), Ctrl-C or SIGTERM stop cleanly
    (exit 0). The one ending of ``make run`` and ``make run-scaled``."""
    # SIGTERM (e.g. from a test or a service manager) stops cleanly, like Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return run()
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0
    finally:
        stop()
        print("Stopped.", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Start the stack (or the shell), and stop everything on the way out."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shell", action="store_true", help="chat in this terminal")
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    parser.add_argument("--action-port", type=int, default=int(os.environ.get("ACTION_PORT", 5055)))
    parser.add_argument("--web-port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument(
        "--no-demo",
        action="store_true",
        help="no demo agent (create agents with python -m handoff.cli)",
    )
    args = parser.parse_args(argv)
    if not MODEL.exists():
        print(f"No trained model at {MODEL}: run `make train` first.", file=sys.stderr)
        return 1

    env = dict(os.environ)
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    endpoints = write_endpoints(args.action_port, database_url=env.get("DATABASE_URL"))
    actions = action_service(args.action_port)
    services = [actions]
    envs = {actions.name: env}
    if not args.shell:
        # The assistant tells the hours the web app has in service (an admin may edit them).
        envs[actions.name] = {**env, "WEB_APP_URL": f"http://127.0.0.1:{args.web_port}"}
        token = rasa_token()
        rasa = rasa_service(args.rasa_port, endpoints, token)
        web = web_service(args.web_port)
        services += [rasa, web]
        envs[rasa.name] = env
        envs[web.name] = web_env(env, args.rasa_port, token, demo=not args.no_demo)

    def run() -> int:
        for service in services:
            service.start(envs[service.name])
        wait_until_healthy(services)
        if args.shell:
            rasa = str(Path(sys.executable).with_name("rasa"))
            return subprocess.call(
                [
                    rasa,
                    "shell",
                    "-m",
                    str(MODEL),
                    "--endpoints",
                    str(endpoints),
                    "-i",
                    "127.0.0.1",
                    "-p",
                    str(args.rasa_port),
                ],
                cwd=PROJECT_ROOT,
            )
        print_how_to_chat(args.web_port, demo=not args.no_demo)
        return Supervisor(services, envs).run()

    def stop() -> None:
        for service in reversed(services):
            service.stop()

    print(f"Starting (logs in {LOGS}) ...", flush=True)
    return run_until_stopped(run, stop)


def print_how_to_chat(web_port: int, demo: bool = True) -> None:
    """Tell the user where the shop (with the chat widget) and the agent desk are."""
    base = f"http://127.0.0.1:{web_port}"
    lines = (
        "DEMO MODE: agent login 'demo', password 'demo'.",
        "For trying it out on this machine only: never expose it.",
        "Real agents: .venv/bin/python -m handoff.cli add <login>",
    )
    width = max(map(len, lines)) + 4
    login = (
        "\n  "
        + "*" * (width + 2)
        + "\n"
        + "".join(f"  *  {line.ljust(width - 2)}*\n" for line in lines)
        + "  "
        + "*" * (width + 2)
        + "\n"
        if demo
        else "\n  Create an agent first: .venv/bin/python -m handoff.cli add <login> --name ...\n"
    )
    print(
        "\nThe assistant is running.\n"
        f"  Shop with the chat widget:  {base}/\n"
        f"  Agent desk:                 {base}/desk\n"
        + login
        + f"Logs: {LOGS}. Rasa's HTTP API token is in {VAR / 'rasa-token'}.\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )
