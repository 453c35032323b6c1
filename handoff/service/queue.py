"""The waiting line: enqueue (or go offline honestly), cancel, position and wait."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..contract import REASONS as HANDOFF_REASONS
from ..events import (
    CONVERSATION_QUEUED,
    CONVERSATION_RETURNED_TO_BOT,
    TICKET_CREATED,
    TICKET_UPDATED,
)
from ..models import agents, conversations, customers, handoffs, messages, offline_tickets
from .assignment import AssignmentService
from .base import ServiceBase, as_utc, to_conversation, waiting_oldest_first
from .customers import customer_label
from .errors import Conflict, InvalidInput
from .teams import TeamService
from .tickets import TicketService
from .types import Conversation, EnqueueResult, QueueItem, QueueStatus, Ticket

MAX_CONTEXT_JSON = 64_000
DEFAULT_HANDLING_SECONDS = 300
RECENT_HANDOFFS = 20
# An agent with a free slot still needs a moment to notice and open the chat.
PICKUP_SECONDS = 60


class QueueService(ServiceBase):
    """Queue operations: enqueue (or an offline ticket), cancel, position, wait, list."""

    def __init__(
        self,
        base: ServiceBase,
        assignment: AssignmentService,
        tickets: TicketService,
        teams: TeamService | None = None,
    ) -> None:
        super().__init__(*base.parts())
        self.assignment = assignment  # a new chat may go to a free agent at once
        self.tickets = tickets  # outside hours a request becomes an offline ticket
        self.teams = teams  # a new handoff is routed to a team by its topic and reason

    async def enqueue(
        self,
        conversation_id: str,
        reason: str,
        context: dict[str, Any] | None = None,
    ) -> EnqueueResult:
        """Hand a conversation to a person, or open an offline ticket if nobody can answer.

        Args:
            conversation_id: a conversation in state ``bot``.
            reason: ``customer_request``, ``low_confidence``, ``frustration`` or
                ``unhelpful_answer``.
            context: the action layer's handoff context (``summary``, ``intents``,
                ``frustration``, ``faq_answers``, ``transcript``...; all optional).

        Returns:
            ``queued`` with position and estimated wait, ``assigned`` when an agent
            took it immediately, or ``offline`` outside office hours or with nobody
            online (a ticket is opened; ``next_opening`` says when support opens).
            Asking again while queued or assigned returns the current status.
        """
        if reason not in HANDOFF_REASONS:
            raise InvalidInput(f"reason must be one of {', '.join(HANDOFF_REASONS)}")
        context = dict(context or {})
        try:
            size = len(json.dumps(context))
        except (TypeError, ValueError):
            raise InvalidInput("context must be JSON-serialisable") from None
        if size > MAX_CONTEXT_JSON:
            raise InvalidInput(f"context is too large ({size} bytes, limit {MAX_CONTEXT_JSON})")
        now = self.now()
        open_now = self.hours.is_open(now)
        async with self.unit() as work:
            conv = await self._conversation_row(work.conn, conversation_id, lock=True)
            if conv["state"] in ("queued", "assigned"):
                already = conv["state"]
            elif conv["state"] == "closed":
                raise Conflict("this conversation is closed")
            else:
                already = None
                online = await self._available_count(work.conn)
                values = dict(
                    conversation_id=conversation_id,
                    reason=reason,
                    context=context,
                    queued_at=now,
                )
                if not open_now or online == 0:
                    return await self._go_offline(work, values, open_now, now)
                if self.teams is not None:
                    values["team_id"] = await self.teams.route(work.conn, reason, context)
                await work.conn.execute(insert(handoffs).values(offline=False, **values))
                await work.conn.execute(
                    update(conversations)
                    .where(conversations.c.id == conversation_id)
                    .values(state="queued", updated_at=now)
                )
                queue = await self._queue_ids(work.conn)
                work.emit(
                    CONVERSATION_QUEUED,
                    {
                        "conversation_id": conversation_id,
                        "reason": reason,
                        "queued_at": now.isoformat(),
                        "position": queue.index(conversation_id) + 1,
                    },
                    conversation_id,
                )
                self._emit_queue_changed(work, queue)
        if already is None and self.settings.auto_assign:
            await self.assignment.auto_assign()
        return await self._status_result(conversation_id)

    async def _go_offline(
        self, work: Any, values: dict[str, Any], open_now: bool, now: dt.datetime
    ) -> EnqueueResult:
        ticket_id = await self._open_ticket_of(work.conn, values["conversation_id"])
        if ticket_id is None:
            ticket_id = await self._open_offline_ticket(work, values, now)
        else:
            # One open ticket per conversation: a further request adds its reason and
            # context (a longer transcript) to the ticket's handoff instead of a new one.
            await self._add_to_offline_ticket(work, ticket_id, values, now)
        next_opening = None if open_now else self.hours.next_opening(now)
        return EnqueueResult(
            outcome="offline",
            conversation_id=values["conversation_id"],
            ticket_id=ticket_id,
            offline_reason="no_agents" if open_now else "closed",
            next_opening=next_opening,
            message=self._offline_message(open_now, next_opening),
        )

    async def _open_offline_ticket(
        self, work: Any, values: dict[str, Any], now: dt.datetime
    ) -> int:
        result = await work.conn.execute(
            insert(handoffs).values(offline=True, outcome="offline", closed_at=now, **values)
        )
        handoff_id = int(result.inserted_primary_key[0])
        ticket = await work.conn.execute(
            insert(offline_tickets).values(
                conversation_id=values["conversation_id"],
                handoff_id=handoff_id,
                state="open",
                created_at=now,
                updated_at=now,
            )
        )
        ticket_id = int(ticket.inserted_primary_key[0])
        ticket_json = Ticket(
            id=ticket_id,
            conversation_id=values["conversation_id"],
            state="open",
            created_at=now,
            updated_at=now,
            handoff_id=handoff_id,
            reason=values["reason"],
        ).to_json()
        work.emit(TICKET_CREATED, {"ticket": ticket_json}, values["conversation_id"])
        return ticket_id

    async def _add_to_offline_ticket(
        self, work: Any, ticket_id: int, values: dict[str, Any], now: dt.datetime
    ) -> None:
        handoff_id = (
            await work.conn.execute(
                select(offline_tickets.c.handoff_id).where(offline_tickets.c.id == ticket_id)
            )
        ).scalar_one()
        if handoff_id is None:  # opened by the contact form alone: give it a handoff
            result = await work.conn.execute(
                insert(handoffs).values(offline=True, outcome="offline", closed_at=now, **values)
            )
            handoff_id = int(result.inserted_primary_key[0])
        else:
            await work.conn.execute(
                update(handoffs)
                .where(handoffs.c.id == handoff_id)
                .values(reason=values["reason"], context=values["context"], closed_at=now)
            )
        await work.conn.execute(
            update(offline_tickets)
            .where(offline_tickets.c.id == ticket_id)
            .values(handoff_id=handoff_id, updated_at=now)
        )
        ticket = await self.tickets.ticket_row(work.conn, ticket_id)
        work.emit(TICKET_UPDATED, {"ticket": ticket.to_json()}, values["conversation_id"])

    def _offline_message(self, open_now: bool, next_opening: dt.datetime | None) -> str:
        if open_now:
            text = self.wording.say("offline_no_agents")
        elif next_opening is None:
            text = self.wording.say("offline_closed_unknown")
        else:
            when = next_opening.astimezone(self.hours.timezone).strftime("%A %d %B at %H:%M")
            text = self.wording.say("offline_closed", when=when, timezone=self.hours.timezone.key)
        if self.hours.summary:
            text += " " + self.wording.say("support_hours_note", hours=self.hours.summary)
        return text

    async def _status_result(self, conversation_id: str) -> EnqueueResult:
        async with self.engine.connect() as conn:
            conv = await self._conversation_row(conn, conversation_id)
            if conv["state"] == "assigned":
                name = await self._agent_name(conn, conv["agent_id"])
                return EnqueueResult(
                    outcome="assigned",
                    conversation_id=conversation_id,
                    agent_name=name,
                )
            status = await self._queue_status(conn, conversation_id)
        if status is None:
            raise Conflict(f"this conversation is no longer waiting (state {conv['state']})")
        return EnqueueResult(
            outcome="queued",
            conversation_id=conversation_id,
            position=status.position,
            estimated_wait_seconds=status.estimated_wait_seconds,
        )

    async def cancel(self, conversation_id: str) -> Conversation:
        """The customer leaves the queue: ``queued`` -> ``bot`` (no-op when already ``bot``)."""
        now = self.now()
        async with self.unit() as work:
            conv = await self._conversation_row(work.conn, conversation_id, lock=True)
            if conv["state"] == "bot":
                return to_conversation(conv)
            if conv["state"] != "queued":
                raise Conflict(
                    f"only a waiting conversation can be cancelled (it is {conv['state']})"
                )
            await work.conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id, conversations.c.state == "queued")
                .values(state="bot", updated_at=now)
            )
            await self._close_handoff(work.conn, conversation_id, now, "cancelled")
            work.emit(
                CONVERSATION_RETURNED_TO_BOT,
                {"conversation_id": conversation_id, "by": "customer", "agent_id": None},
                conversation_id,
            )
            self._emit_queue_changed(work, await self._queue_ids(work.conn))
        return to_conversation({**conv, "state": "bot", "updated_at": now})

    async def queue_status(self, conversation_id: str) -> QueueStatus | None:
        """Position (1 = next) and estimated wait of a queued conversation, else None."""
        async with self.engine.connect() as conn:
            await self._conversation_row(conn, conversation_id)
            return await self._queue_status(conn, conversation_id)

    async def _queue_status(
        self, conn: AsyncConnection, conversation_id: str
    ) -> QueueStatus | None:
        queue = await self._queue_ids(conn)
        if conversation_id not in queue:
            return None
        position = queue.index(conversation_id) + 1
        return QueueStatus(position, await self._estimate_wait(conn, position))

    async def _available_count(self, conn: AsyncConnection) -> int:
        query = select(func.count(agents.c.id)).where(self._available_clause())
        return int((await conn.execute(query)).scalar_one())

    async def _estimate_wait(self, conn: AsyncConnection, position: int) -> int | None:
        """Seconds until a person answers: recent handling times over online capacity.

        None when nobody is online (no honest estimate exists).
        """
        query = select(
            func.coalesce(func.sum(agents.c.max_chats), 0),
            func.coalesce(func.sum(self._load_subquery()), 0),
        ).where(self._available_clause())
        capacity, load = (await conn.execute(query)).one()
        capacity, load = int(capacity), int(load)
        if capacity == 0:
            return None
        free = max(capacity - load, 0)
        if position <= free:
            return PICKUP_SECONDS
        rounds = math.ceil((position - free) / capacity)
        return PICKUP_SECONDS + rounds * await self._average_handling_seconds(conn)

    async def _average_handling_seconds(self, conn: AsyncConnection) -> int:
        query = (
            select(handoffs.c.assigned_at, handoffs.c.closed_at)
            .where(handoffs.c.assigned_at.isnot(None), handoffs.c.closed_at.isnot(None))
            .order_by(handoffs.c.closed_at.desc())
            .limit(RECENT_HANDOFFS)
        )
        durations = [
            (as_utc(closed) - as_utc(assigned)).total_seconds()
            for assigned, closed in (await conn.execute(query)).all()
        ]
        if not durations:
            return DEFAULT_HANDLING_SECONDS
        return max(30, int(sum(durations) / len(durations)))

    async def list_queue(self) -> list[QueueItem]:
        """Waiting chats, oldest first, with reason, wait so far and first message."""
        now = self.now()
        first_message = (
            select(messages.c.text)
            .where(
                messages.c.conversation_id == conversations.c.id,
                messages.c.author == "customer",
            )
            .order_by(messages.c.id)
            .limit(1)
            .scalar_subquery()
        )
        customer_name = (
            select(customers.c.name)
            .where(customers.c.id == conversations.c.customer_id)
            .scalar_subquery()
        )
        query = waiting_oldest_first(
            select(
                conversations.c.id,
                handoffs.c.reason,
                handoffs.c.queued_at,
                handoffs.c.context,
                first_message.label("first_message"),
                customer_name.label("customer_name"),
            )
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        items = []
        for position, row in enumerate(rows, start=1):
            queued_at = as_utc(row["queued_at"])
            summary = (row["context"] or {}).get("summary")
            items.append(
                QueueItem(
                    conversation_id=row["id"],
                    reason=row["reason"],
                    queued_at=queued_at,
                    waited_seconds=max(0, int((now - queued_at).total_seconds())),
                    first_message=row["first_message"],
                    summary=summary if isinstance(summary, str) else None,
                    position=position,
                    customer_label=customer_label(row["id"], row["customer_name"]),
                )
            )
        return items
