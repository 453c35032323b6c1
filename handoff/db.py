"""Async engine creation and schema migrations (Alembic, run programmatically)."""

from __future__ import annotations

import asyncio
import os
import weakref
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
# SQLAlchemy 1.4 gives a SQLite file no pool: every transaction would open a connection
# (and aiosqlite a thread) and run the pragmas again, which cost the gateway ~10 ms per
# customer message. Reads run side by side under WAL; writers queue on BEGIN IMMEDIATE.
SQLITE_POOL = {"poolclass": AsyncAdaptedQueuePool, "pool_size": 8, "max_overflow": 16}
# Execution option marking a connection whose transactions will write.
WRITE_OPTION = "handoff_write"
# aiosqlite runs each connection in a thread of its own: those of every SQLite engine,
# so close_engine can wait for them.
_SQLITE_THREADS: weakref.WeakKeyDictionary[Any, weakref.WeakSet[Any]] = weakref.WeakKeyDictionary()


def async_url(url: str) -> str:
    """Translate a plain database URL to its asyncio driver.

    ``sqlite:///x.db`` becomes ``sqlite+aiosqlite:///x.db`` and ``postgresql://…`` (or
    ``postgres://…``) becomes ``postgresql+asyncpg://…``; URLs that already name an
    async driver are returned unchanged.
    """
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend == "postgresql" and driver in ("", "psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported database URL {url!r}: use sqlite or postgresql")
    return parsed.render_as_string(hide_password=False)


def keep_private(path: Path) -> None:
    """Create ``path`` (an SQLite file) readable by its owner only, or make it so.

    Conversations, agents and password hashes live there: 0600 like the secrets beside
    it. SQLite gives its -wal and -shm files the database file's mode.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    for companion in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        if companion.exists() and companion.stat().st_mode & 0o077:
            companion.chmod(0o600)


def is_sqlite(engine: AsyncEngine) -> bool:
    """True when the engine talks to SQLite (no row locks; writers are serialised)."""
    return engine.dialect.name == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create the async engine; on SQLite also enable WAL, a busy timeout and FKs, and
    keep the connections to a database file in a pool (:func:`close_engine` when done).

    SQLite write transactions (connections with the ``handoff_write`` execution
    option, and migrations) start with ``BEGIN IMMEDIATE`` so concurrent writers queue
    on the busy timeout instead of failing when a read lock cannot be upgraded.
    """
    target = async_url(url)
    parsed = make_url(target)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        keep_private(Path(parsed.database))
        kwargs = {**SQLITE_POOL, **kwargs}
    engine = create_async_engine(target, future=True, **kwargs)
    if is_sqlite(engine):
        _configure_sqlite(engine)
    return engine


async def close_engine(engine: AsyncEngine) -> None:
    """Dispose of ``engine``; on SQLite, also wait until every connection's thread ended.

    A task cancelled while it awaits a query (a socket handler whose client left as the
    server stopped) stops waiting, but the query still runs in aiosqlite's thread, which
    then answers the event loop: closed by then, unless someone waits here for it.
    """
    await engine.dispose()
    for connection in list(_SQLITE_THREADS.get(engine.sync_engine, ())):
        # Queued after whatever the thread still runs; nothing to do once it is closed.
        await connection.close()
        if connection.is_alive():
            await asyncio.to_thread(connection.join)


def _configure_sqlite(engine: AsyncEngine) -> None:
    threads = _SQLITE_THREADS.setdefault(engine.sync_engine, weakref.WeakSet())

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if hasattr(dbapi_connection, "driver_connection"):  # aiosqlite, not pysqlite
            threads.add(dbapi_connection.driver_connection)
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Reads take no lock up front; writes (see WRITE_OPTION) take the write lock now.
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def alembic_config() -> Config:
    """An Alembic config pointing at ``handoff/migrations`` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _run(connection: Connection, revision: str, downgrade: bool) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    if downgrade:
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (``head`` at start-up)."""
    await _migrate(engine, revision, downgrade=False)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    """Take the schema down to ``revision`` (used by tests and by operators)."""
    await _migrate(engine, revision, downgrade=True)


async def _migrate(engine: AsyncEngine, revision: str, downgrade: bool) -> None:
    sqlite = engine.dialect.name == "sqlite"
    async with engine.connect() as conn:
        if sqlite:
            # SQLite alters a table by building a copy and dropping the old one; with
            # foreign keys on, dropping a table other rows point at fails (and would
            # cascade). SQLite's own recipe: keys off outside the transaction, check after.
            await conn.run_sync(_pragma, "PRAGMA foreign_keys=OFF")
        try:
            await conn.execution_options(**{WRITE_OPTION: True})
            async with conn.begin():
                await conn.run_sync(_run, revision, downgrade)
                if sqlite:
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(f"migration left rows without their parent: {broken}")
        finally:
            if sqlite:
                await conn.run_sync(_pragma, "PRAGMA foreign_keys=ON")


def _pragma(conn: Connection, statement: str) -> None:
    # On the driver's connection: through SQLAlchemy the statement would open a
    # transaction, and SQLite ignores this pragma inside one.
    cursor = conn.connection.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()
