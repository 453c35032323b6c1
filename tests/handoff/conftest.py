"""Fixtures of the handoff tests: SQLite and a real PostgreSQL 15 server, a service."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import AsyncIterator, Callable, Iterator

import pytest
import pytest_asyncio

from handoff import db
from handoff.events import InProcessEventBus
from handoff.hours import ALWAYS_OPEN, OfficeHours
from handoff.service import HandoffService
from handoff.settings import Settings
from tools.stack.in_process import InProcessServer
from tools.stack.local_services import PG_BIN, PostgresCluster
from tools.stack.runner import free_port


def pytest_configure(config: pytest.Config) -> None:
    """Silence Sanic's notice that start-up listeners run late under the ASGI client."""
    config.addinivalue_line("filterwarnings", "ignore:You have set a listener for:UserWarning")


def _missing(what: str) -> None:
    # CI must run these tests: a missing binary there is a broken machine, not a skip.
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing but CI is set: install it (see tests/handoff)")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Start a throw-away PostgreSQL 15 on a free port; yields its base URL."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        _missing(f"PostgreSQL 15 ({PG_BIN}/initdb, pg_ctl)")
    root = Path(tempfile.mkdtemp(prefix="handoff-pg-"))
    cluster = PostgresCluster(root, free_port())
    try:
        cluster.start()
    except RuntimeError as problem:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(str(problem))
    try:
        yield cluster.url
    finally:
        cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def _create_pg_database(base_url: str) -> str:
    import psycopg2

    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = psycopg2.connect(f"{base_url}/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return f"{base_url}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty database URL, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    return _create_pg_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database URL (for tests where the backend does not matter)."""
    return f"sqlite:///{tmp_path / 'app.db'}"


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FixedClock:
    """Wednesday 2026-11-25 12:00 UTC (inside shop.yml's support hours)."""
    return FixedClock(dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.timezone.utc))


def make_settings(tmp_path: Path, url: str, **overrides: object) -> Settings:
    """Settings for tests: temp data folder, fixed secret, given database."""
    base = Settings.from_env({"HANDOFF_DATA_DIR": str(tmp_path / "var"), "DATABASE_URL": url})
    values = dict(secret_key="test-secret-" + "x" * 40, auto_assign=False)
    values.update(overrides)
    from dataclasses import replace

    return replace(base, **values)  # type: ignore[arg-type]


@pytest_asyncio.fixture
async def make_service(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Callable[..., object]]:
    """Factory: ``await make_service(url, hours=..., **settings)`` -> migrated service."""
    engines = []

    async def factory(
        url: str, hours: OfficeHours = ALWAYS_OPEN, **overrides: object
    ) -> HandoffService:
        settings = make_settings(tmp_path, url, **overrides)
        engine = db.create_engine(settings.database_url)
        engines.append(engine)
        await db.upgrade(engine)
        return HandoffService(engine, InProcessEventBus(), settings, hours, clock)

    yield factory
    for engine in engines:
        await db.close_engine(engine)


@pytest_asyncio.fixture
async def service(make_service: Callable[..., object], database_url: str) -> HandoffService:
    """A migrated service on each backend (SQLite, PostgreSQL), auto-assign off."""
    return await make_service(database_url)  # type: ignore[misc]


@pytest_asyncio.fixture
async def sqlite_service(make_service: Callable[..., object], sqlite_url: str) -> HandoffService:
    """A migrated service on SQLite only, auto-assign off."""
    return await make_service(sqlite_url)  # type: ignore[misc]


@pytest.fixture
def desk_settings(tmp_path: Path, sqlite_url: str) -> Settings:
    """Settings of a desk app on SQLite, auto-assign off (tests decide who claims)."""
    return make_settings(tmp_path, sqlite_url)


_app_counter = 0


def unique_app_name() -> str:
    """Sanic 21.12 keeps a registry of app names; every test app needs its own."""
    global _app_counter
    _app_counter += 1
    return f"handoff_test_{os.getpid()}_{_app_counter}"


@pytest.fixture
def app_factory(desk_settings: Settings) -> Callable[..., object]:
    """Factory: ``app_factory(**register_options)`` -> a desk app (always-open hours)."""
    from handoff.app import create_app

    def factory(settings: Settings = desk_settings, **options: object):
        options.setdefault("hours", ALWAYS_OPEN)
        options.setdefault("background", False)
        return create_app(settings, name=unique_app_name(), **options)

    return factory


class LiveDesk(InProcessServer):
    """A desk served for real on 127.0.0.1 (websockets and the browser need one)."""

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/agent/ws"

    @property
    def service(self) -> HandoffService:
        return self.app.ctx.handoff  # type: ignore[attr-defined]


@pytest_asyncio.fixture
async def live_desk(app_factory: Callable[..., object]) -> AsyncIterator[LiveDesk]:
    """A running desk with the real clock."""
    desk = LiveDesk(app_factory(), free_port())
    await desk.start()
    yield desk
    await desk.stop()


@pytest.fixture
def port() -> int:
    """A free TCP port on 127.0.0.1 (for a server a test starts itself)."""
    return free_port()


@pytest_asyncio.fixture
async def serve_desk() -> AsyncIterator[Callable[..., object]]:
    """Factory: ``await serve_desk(app)`` -> a started :class:`LiveDesk`, stopped after."""
    desks: list[LiveDesk] = []

    async def factory(app: object) -> LiveDesk:
        desk = LiveDesk(app, free_port())
        await desk.start()
        desks.append(desk)
        return desk

    yield factory
    for desk in desks:
        await desk.stop()
