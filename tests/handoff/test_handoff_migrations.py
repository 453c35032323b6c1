"""Schema migrations (Alembic, programmatic) and engine set-up, on both databases."""

import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from handoff import db
from handoff.models import metadata

pytestmark = pytest.mark.asyncio
TABLES = {
    "agents",
    "conversations",
    "messages",
    "handoffs",
    "offline_tickets",
    "csat_answers",
    "agent_sessions",
    "customers",
    "audit_log",
    "saved_replies",
    "notes",
    "labels",
    "conversation_labels",
    "teams",
    "team_members",
    "desk_settings",
}


def _diff(sync_conn):
    with warnings.catch_warnings():
        # PostgreSQL's search index is on an expression, which SQLAlchemy does not reflect.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        changes = compare_metadata(MigrationContext.configure(sync_conn), metadata)

    # SQLite keeps AUTOINCREMENT counters in its own table; not ours. The full-text
    # search structures (SQLite's FTS5 tables, PostgreSQL's expression index) live in the
    # migration only: SQLAlchemy models neither.
    def ours(change):
        if change[0] == "remove_table":
            return change[1].name != "sqlite_sequence" and not change[1].name.startswith(
                "messages_fts"
            )
        return not (change[0] == "remove_index" and change[1].name == "ix_messages_text_tsv")

    return [c for c in changes if ours(c)]


async def test_upgrade_matches_models_and_downgrade_removes_all(database_url):
    engine = db.create_engine(database_url)
    try:
        await db.upgrade(engine)
        await db.upgrade(engine)  # running again at start-up is harmless
        async with engine.connect() as conn:
            names = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            assert TABLES <= names
            assert await conn.run_sync(_diff) == []
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            assert version == "0005_mailed_up_to"
        await db.downgrade(engine, "base")
        async with engine.connect() as conn:
            names = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert not (TABLES & names)
    finally:
        await engine.dispose()


async def test_a_database_with_chats_in_it_upgrades_keeping_every_row(database_url):
    # A shop that ran an older version: its chats and their messages must survive the
    # migrations that rebuild tables (SQLite rebuilds a table to add a foreign key).
    engine = db.create_engine(database_url)
    try:
        await db.upgrade(engine, "0002_agent_sessions")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO conversations (id, state, created_at, updated_at) "
                    "VALUES ('old-chat', 'bot', '2026-11-01 10:00:00', '2026-11-01 10:00:00')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO messages (conversation_id, author, text, created_at) "
                    "VALUES ('old-chat', 'customer', 'where is my parcel', "
                    "'2026-11-01 10:00:01')"
                )
            )
        await db.upgrade(engine)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT c.id, m.text FROM conversations c "
                        "JOIN messages m ON m.conversation_id = c.id"
                    )
                )
            ).all()
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        assert [tuple(row) for row in rows] == [("old-chat", "where is my parcel")]
        assert version == "0005_mailed_up_to"
        if engine.dialect.name == "sqlite":  # the keys are back on for the app
            async with engine.connect() as conn:
                assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    finally:
        await engine.dispose()


async def test_database_refuses_two_owners_states(database_url):
    # The owner-iff-assigned check is a last line of defence below the service.
    from sqlalchemy.exc import IntegrityError

    engine = db.create_engine(database_url)
    try:
        await db.upgrade(engine)
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO conversations (id, state, agent_id, created_at, updated_at) "
                        "VALUES ('c1', 'assigned', NULL, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    )
                )
    finally:
        await engine.dispose()


async def test_sqlite_uses_wal_and_a_busy_timeout(sqlite_url):
    engine = db.create_engine(sqlite_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() >= 5000
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_closing_the_engine_waits_for_a_query_a_cancelled_task_left_running(sqlite_url):
    # A socket handler cancelled mid-query (its client left as the server stopped) stops
    # waiting, but aiosqlite's thread runs the query on and then answers the event loop:
    # the engine must not count as closed (and the loop end) before that.
    import asyncio
    import threading

    entered, release, finished = threading.Event(), threading.Event(), []

    def slow(value):
        entered.set()
        release.wait(60)
        finished.append(value)
        return value

    engine = db.create_engine(sqlite_url)
    conn = await engine.connect()  # never given back, like the cancelled handler's
    driver = (await conn.get_raw_connection()).driver_connection
    await driver.create_function("slow", 1, slow)
    query = asyncio.ensure_future(driver.execute("SELECT slow(1)"))
    await asyncio.to_thread(entered.wait, 60)
    query.cancel()  # nobody awaits the query any more; it is still running
    closing = asyncio.ensure_future(db.close_engine(engine))
    done, _ = await asyncio.wait({closing}, timeout=0.5)
    assert not done, "close_engine returned while a query was still running"
    release.set()
    await closing
    assert finished == [1] and not driver.is_alive()
    await conn.invalidate()  # the pool forgets it (its driver connection is closed)


@pytest.mark.parametrize(
    "given, expected",
    [
        ("sqlite:///var/app.db", "sqlite+aiosqlite:///var/app.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u:p@h:5432/d", "postgresql+asyncpg://u:p@h:5432/d"),
        ("postgres://u:p@h/d", "postgresql+asyncpg://u:p@h/d"),
        ("postgresql+psycopg2://u@h/d", "postgresql+asyncpg://u@h/d"),
    ],
)
async def test_urls_are_translated_to_async_drivers(given, expected):
    assert db.async_url(given) == expected


async def test_unsupported_database_is_a_clear_error():
    with pytest.raises(ValueError, match="unsupported database URL"):
        db.async_url("mysql://u@h/d")
