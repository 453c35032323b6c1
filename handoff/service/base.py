"""Shared plumbing of the service: transactions that publish after commit, helpers."""

from __future__ import annotations

import datetime as dt
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, overload

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Select

from ..db import WRITE_OPTION
from ..events import CONVERSATION_ASSIGNED, QUEUE_CHANGED, Event, EventBus
from ..hours import ALWAYS_OPEN, OfficeHours
from ..messages import Messages, load_messages
from ..models import agents, conversations, handoffs, messages, offline_tickets
from ..settings import Settings
from .errors import NotFound
from .types import Agent, Conversation, Handoff, Message

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """The real clock (timezone-aware UTC)."""
    return dt.datetime.now(dt.timezone.utc)


@overload
def as_utc(value: dt.datetime) -> dt.datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; everything is stored in UTC, so mark it so."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.timezone.utc)


def open_handoff_of(conversation_id: str) -> Any:
    """Where-clause of the conversation's open handoff: not closed, not an offline ticket's."""
    return and_(
        handoffs.c.conversation_id == conversation_id,
        handoffs.c.closed_at.is_(None),
        handoffs.c.offline.is_(False),
    )


def waiting_oldest_first(query: Select) -> Select:
    """`query` narrowed to queued conversations joined to their open (not offline)
    handoff, oldest handoff first: the one definition of the queue."""
    return (
        query.join(
            handoffs,
            and_(
                handoffs.c.conversation_id == conversations.c.id,
                handoffs.c.closed_at.is_(None),
                handoffs.c.offline.is_(False),
            ),
        )
        .where(conversations.c.state == "queued")
        .order_by(handoffs.c.queued_at, handoffs.c.id)
    )


@dataclass
class Unit:
    """One database transaction plus the events to publish once it has committed."""

    conn: AsyncConnection
    events: list[Event] = field(default_factory=list)

    def emit(self, name: str, data: dict[str, Any], conversation_id: str | None = None) -> None:
        """Queue an event; it is published only if the transaction commits."""
        self.events.append(Event(name, data, conversation_id))


class ServiceBase:
    """Holds the engine, bus, settings, office hours, clock and wording of the service."""

    def __init__(
        self,
        engine: AsyncEngine,
        bus: EventBus,
        settings: Settings,
        hours: OfficeHours | None = None,
        clock: Clock = utcnow,
        wording: Messages | None = None,
    ) -> None:
        self.engine = engine
        self.bus = bus
        self.settings = settings
        self.hours = hours or ALWAYS_OPEN
        self.clock = clock
        # What customers are told; read from the shop file when the service is built.
        self.wording = wording or load_messages(settings.shop_file)

    def parts(
        self,
    ) -> tuple[AsyncEngine, EventBus, Settings, OfficeHours, Clock, Messages]:
        """What a service built next to this one shares with it (one engine, one bus...)."""
        return self.engine, self.bus, self.settings, self.hours, self.clock, self.wording

    def now(self) -> dt.datetime:
        """Current time from the injectable clock, in UTC (what the database stores)."""
        return self.clock().astimezone(dt.timezone.utc)

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Unit]:
        """A transaction; its events are published after (and only after) commit."""
        async with self.engine.connect() as conn:
            await conn.execution_options(**{WRITE_OPTION: True})
            async with conn.begin():
                work = Unit(conn)
                yield work
        if work.events:
            await self.bus.publish(work.events)

    # -- reading helpers shared by the services -------------------------------------

    async def _conversation_row(
        self, conn: AsyncConnection, conversation_id: str, lock: bool = False
    ) -> Any:
        if not isinstance(conversation_id, str) or not 0 < len(conversation_id) <= 64:
            raise NotFound("no such conversation")
        query = select(conversations).where(conversations.c.id == conversation_id)
        if lock:
            query = query.with_for_update()
        row = (await conn.execute(query)).mappings().first()
        if row is None:
            raise NotFound("no such conversation")
        return row

    async def _current_handoff(self, conn: AsyncConnection, conversation_id: str) -> Any:
        """The open (not offline, not closed) handoff of a conversation, if any."""
        query = (
            select(handoffs)
            .where(open_handoff_of(conversation_id))
            .order_by(handoffs.c.id.desc())
            .limit(1)
        )
        return (await conn.execute(query)).mappings().first()

    async def _open_ticket_of(self, conn: AsyncConnection, conversation_id: str) -> int | None:
        """The id of the conversation's open offline ticket (at most one), if any."""
        query = (
            select(offline_tickets.c.id)
            .where(
                offline_tickets.c.conversation_id == conversation_id,
                offline_tickets.c.state == "open",
            )
            .order_by(offline_tickets.c.id.desc())
            .limit(1)
        )
        return (await conn.execute(query)).scalar_one_or_none()

    async def _queue_ids(self, conn: AsyncConnection) -> list[str]:
        """Queued conversations, oldest handoff first."""
        query = waiting_oldest_first(select(conversations.c.id))
        return list((await conn.execute(query)).scalars())

    async def _close_handoff(
        self, conn: AsyncConnection, conversation_id: str, now: dt.datetime, outcome: str
    ) -> None:
        await self._update_open_handoff(conn, conversation_id, closed_at=now, outcome=outcome)

    async def _update_open_handoff(
        self, conn: AsyncConnection, conversation_id: str, **values: Any
    ) -> None:
        """Set ``values`` on the conversation's open handoff (if it has one)."""
        await conn.execute(update(handoffs).where(open_handoff_of(conversation_id)).values(values))

    def _emit_queue_changed(self, work: Unit, queue: list[str]) -> None:
        work.emit(QUEUE_CHANGED, {"queue": queue, "length": len(queue)})

    def _emit_owner(
        self,
        work: Unit,
        conversation_id: str,
        agent: Any | None,
        previous_agent_id: int | None,
        how: str,
    ) -> None:
        """A chat changed hands: who has it now (``agent`` None: back in the queue)."""
        work.emit(
            CONVERSATION_ASSIGNED,
            {
                "conversation_id": conversation_id,
                "agent_id": agent["id"] if agent is not None else None,
                "agent_name": agent["name"] if agent is not None else None,
                "previous_agent_id": previous_agent_id,
                "how": how,
            },
            conversation_id,
        )

    def _available_clause(self) -> Any:
        cutoff = self.now() - dt.timedelta(seconds=self.settings.presence_timeout_seconds)
        return and_(
            agents.c.online.is_(True),
            agents.c.disabled.is_(False),
            agents.c.last_seen_at >= cutoff,
        )

    def _load_subquery(self) -> Any:
        return (
            select(func.count(conversations.c.id))
            .where(
                conversations.c.agent_id == agents.c.id,
                conversations.c.state == "assigned",
            )
            .scalar_subquery()
        )

    async def _agent_load(self, conn: AsyncConnection, agent_id: int) -> int:
        query = select(func.count(conversations.c.id)).where(
            conversations.c.agent_id == agent_id, conversations.c.state == "assigned"
        )
        return int((await conn.execute(query)).scalar_one())

    async def _agent_name(self, conn: AsyncConnection, agent_id: int | None) -> str | None:
        if agent_id is None:
            return None
        query = select(agents.c.name).where(agents.c.id == agent_id)
        return (await conn.execute(query)).scalar_one_or_none()

    async def _message_rows(self, conn: AsyncConnection, where: Any, limit: int) -> list[Message]:
        query = (
            select(messages, agents.c.name.label("agent_name"))
            .select_from(messages.outerjoin(agents, agents.c.id == messages.c.agent_id))
            .where(where)
            .order_by(messages.c.id)
            .limit(limit)
        )
        return [to_message(row) for row in (await conn.execute(query)).mappings()]


def to_conversation(row: Any) -> Conversation:
    """Row of ``conversations`` -> :class:`Conversation`."""
    return Conversation(
        id=row["id"],
        state=row["state"],
        agent_id=row["agent_id"],
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
        closed_at=as_utc(row["closed_at"]),
    )


def to_message(row: Any, agent_name: str | None = None) -> Message:
    """Row of ``messages`` (optionally joined with the agent name) -> :class:`Message`."""
    keys = row.keys()
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        author=row["author"],
        text=row["text"],
        created_at=as_utc(row["created_at"]),
        agent_id=row["agent_id"],
        agent_name=row["agent_name"] if "agent_name" in keys else agent_name,
        buttons=row["buttons"],
    )


def to_agent(row: Any, load: int = 0) -> Agent:
    """Row of ``agents`` -> :class:`Agent` (without the password hash)."""
    keys = row.keys()
    return Agent(
        id=row["id"],
        login=row["login"],
        name=row["name"],
        max_chats=row["max_chats"],
        online=bool(row["online"]),
        disabled=bool(row["disabled"]),
        last_seen_at=as_utc(row["last_seen_at"]),
        load=int(row["load"]) if "load" in keys and row["load"] is not None else load,
        role=row["role"] if "role" in keys else "agent",
    )


def to_handoff(row: Any) -> Handoff:
    """Row of ``handoffs`` -> :class:`Handoff`."""
    return Handoff(
        id=row["id"],
        conversation_id=row["conversation_id"],
        reason=row["reason"],
        context=row["context"] or {},
        queued_at=as_utc(row["queued_at"]),
        assigned_at=as_utc(row["assigned_at"]),
        first_response_at=as_utc(row["first_response_at"]),
        closed_at=as_utc(row["closed_at"]),
        agent_id=row["agent_id"],
        offline=bool(row["offline"]),
        outcome=row["outcome"],
    )
