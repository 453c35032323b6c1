"""Fixtures of the scaled tests: a real Redis, a real PostgreSQL and web workers as real
processes (``python -m bot``), started by the tests on free 127.0.0.1 ports."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tools.stack.local_services import (
    PG_BIN,
    REDIS_SERVER,
    PostgresCluster,
    RedisService,
    redis_service,
)
from tools.stack.runner import Service, free_port, sandbox_web_env, web_service

RASA_TOKEN = "scaled-test-rasa-token"


def _need(path: Path, what: str) -> None:
    # CI must run these tests: a missing binary there is a broken machine, not a skip.
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{what} ({path}) is missing but CI is set: install it")
        pytest.skip(f"{what} ({path}) is not installed")


def wait_healthy(service: Service, timeout: float = 120.0) -> None:
    """Block until ``service`` answers; fail with its log if it dies or is too slow."""
    deadline = time.monotonic() + timeout
    while not service.healthy():
        if service.exit_code() is not None or time.monotonic() > deadline:
            service.stop()
            pytest.fail(f"the {service.name} did not start:\n{service.log_tail(30)}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    """A throw-away PostgreSQL 15 cluster."""
    _need(PG_BIN / "initdb", "PostgreSQL 15")
    root = Path(f"/tmp/scaled-pg-{uuid.uuid4().hex[:8]}")  # short: the socket path
    cluster = PostgresCluster(root, free_port())
    try:
        cluster.start()
    except RuntimeError as problem:
        pytest.fail(str(problem))
    yield cluster
    cluster.stop("immediate")
    import shutil

    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisService]:
    """A real Redis; ``restart_redis(redis)`` stops and starts it on the same port."""
    _need(REDIS_SERVER, "redis-server")
    folder = tmp_path_factory.mktemp("redis")
    service = redis_service(free_port(), folder, folder / "redis.log")
    service.start(dict(os.environ))
    wait_healthy(service, 20)
    yield service
    service.stop()


@dataclass
class Workers:
    """Two web workers on one PostgreSQL database and one Redis."""

    a: str
    b: str
    services: list[Service]
    database_url: str
    env: dict[str, str]  # what they were started with (to start one again)


@pytest.fixture(scope="module")
def workers(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresCluster, redis: RedisService
) -> Iterator[Workers]:
    """Two ``python -m bot`` processes sharing PostgreSQL and Redis. No Rasa: these tests
    are about the chat between customers and agents, which needs none."""
    yield from start_workers(tmp_path_factory.mktemp("workers"), postgres, redis)


def start_workers(
    folder: Path,
    postgres: PostgresCluster,
    redis: RedisService,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Workers]:
    """Start two workers on a new database (``extra_env`` added), yield, stop them."""
    database_url = postgres.create_database(f"w_{uuid.uuid4().hex[:10]}")
    no_rasa = free_port()
    env = sandbox_web_env(dict(os.environ), folder, no_rasa, RASA_TOKEN)
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
            # Many chats from one test address; the per-chat limit stays the default.
            "BOT_RATE_NEW_CONVERSATIONS": "100000",
            "BOT_RATE_ADDRESS": "100000",
            "HANDOFF_LOGIN_SLOWDOWN": "0",
            **(extra_env or {}),
        }
    )
    services = []
    for name in ("a", "b"):
        service = web_service(free_port())
        service.name, service.log_path = f"web worker {name}", folder / f"web-{name}.log"
        service.start(env)
        wait_healthy(service)  # one at a time: the first creates the tables
        services.append(service)
    base = [s.health_url.rsplit("/", 1)[0] for s in services]
    yield Workers(base[0], base[1], services, database_url, env)
    for service in services:
        service.stop()


def restart_redis(redis: RedisService, down_s: float = 0.0) -> None:
    """Stop Redis (SIGTERM), wait ``down_s``, start it again on the same port."""
    redis.stop()
    time.sleep(down_s)
    redis.start(dict(os.environ))
    wait_healthy(redis, 20)
