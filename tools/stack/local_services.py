"""Redis and a throw-away PostgreSQL cluster on 127.0.0.1, for the scaled stack and tests.

``redis_service`` is a :class:`tools.stack.Service` (supervised, restarted like the
others); :class:`PostgresCluster` runs ``initdb`` once in its folder and ``pg_ctl``
start/stop (as the ``postgres`` user when run as root: PostgreSQL refuses root).
Nothing here persists what matters only in Redis: it carries notifications and rate
limits, so it runs without saving to disk.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tools.stack.runner import Service

REDIS_SERVER = Path(os.environ.get("REDIS_SERVER", "/usr/bin/redis-server"))
PG_BIN = Path(os.environ.get("HANDOFF_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"


def redis_answers(port: int, timeout: float = 1.0) -> bool:
    """True when a Redis on ``port`` answers PING (a plain socket: no client needed)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisService(Service):
    """redis-server as a supervised service; healthy when it answers PING."""

    port: int = 6379

    def healthy(self) -> bool:
        """True once Redis answers PING."""
        return redis_answers(self.port)


def redis_service(port: int, folder: Path, log_path: Path) -> RedisService:
    """Redis on 127.0.0.1:``port``, working in ``folder``, without persistence."""
    if not REDIS_SERVER.exists():
        raise RuntimeError(
            f"{REDIS_SERVER} is missing: install the redis-server package "
            "(apt-get install redis-server) or set REDIS_SERVER"
        )
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        str(REDIS_SERVER),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(folder),
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "yes",
    ]
    return RedisService("Redis", command, f"redis://127.0.0.1:{port}", log_path, port=port)


def _as_postgres(args: list[str]) -> subprocess.CompletedProcess:
    user = PG_USER if os.geteuid() == 0 else None
    return subprocess.run(args, user=user, check=True, capture_output=True, text=True)


class PostgresCluster:
    """A PostgreSQL 15 cluster in ``root`` on ``port`` (created on first start)."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.data = root / "data"

    @property
    def url(self) -> str:
        """The server's base URL (add ``/<database>``)."""
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}"

    def start(self) -> str:
        """initdb when new, then start; returns :attr:`url`. RuntimeError with the log
        when PostgreSQL is missing or does not start."""
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(
                f"PostgreSQL 15 is missing ({PG_BIN}/initdb): install postgresql-15 "
                "or set HANDOFF_PG_BIN"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, PG_USER, PG_USER)
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        try:
            if not (self.data / "PG_VERSION").exists():
                _as_postgres(
                    [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", PG_USER, "-A", "trust"]
                    + ["--no-sync", "-E", "UTF8", "--locale=C"]
                )
            _as_postgres(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options]
                + ["-l", str(self.root / "log"), "-w", "-t", "60", "start"]
            )
        except subprocess.CalledProcessError as error:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            raise RuntimeError(
                f"could not start PostgreSQL: {error.stderr}\n{log[-2000:]}"
            ) from None
        return self.url

    def create_database(self, name: str) -> str:
        """Create database ``name`` unless it exists; returns its URL."""
        import psycopg2  # the tools' synchronous driver (Rasa's too)

        conn = psycopg2.connect(f"{self.url}/postgres")
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return f"{self.url}/{name}"

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate``: a throw-away cluster needs no checkpoint)."""
        user = PG_USER if os.geteuid() == 0 else None
        subprocess.run(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "stop"],
            user=user,
            capture_output=True,
        )
