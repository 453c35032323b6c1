"""Offline tickets (contact details for a later answer) and CSAT answers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ..contract import MAX_MESSAGE_CHARS
from ..events import TICKET_CREATED, TICKET_UPDATED
from ..models import csat_answers, handoffs, offline_tickets
from ..text import parse_id
from .base import ServiceBase, as_utc
from .conversations import clean_text
from .errors import Conflict, InvalidInput, NotFound
from .types import Ticket

MAX_CONTACT_CHARS = 255


def _ticket(row: Any) -> Ticket:
    return Ticket(
        id=row["id"],
        conversation_id=row["conversation_id"],
        state=row["state"],
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
        contact=row["contact"],
        message=row["message"],
        handoff_id=row["handoff_id"],
        reason=row["reason"] if "reason" in row.keys() else None,
        done_by=row["done_by"],
    )


class TicketService(ServiceBase):
    """Offline tickets and satisfaction answers."""

    async def leave_contact(
        self, conversation_id: str, contact: object, message: str | None = None
    ) -> Ticket:
        """Keep the customer's contact details (and note) on their open offline ticket.

        Fills the ticket opened by an offline handoff, or opens one if there is none.
        ``contact`` is what the customer sent, checked here (a non-blank string).
        """
        contact = clean_text(contact, MAX_CONTACT_CHARS, "contact").strip()
        if message is not None and message != "":
            message = clean_text(message, MAX_MESSAGE_CHARS, "message")
        else:
            message = None
        now = self.now()
        async with self.unit() as work:
            await self._conversation_row(work.conn, conversation_id, lock=True)
            ticket_id = await self._open_ticket_of(work.conn, conversation_id)
            if ticket_id is None:
                result = await work.conn.execute(
                    insert(offline_tickets).values(
                        conversation_id=conversation_id,
                        contact=contact,
                        message=message,
                        state="open",
                        created_at=now,
                        updated_at=now,
                    )
                )
                ticket_id = int(result.inserted_primary_key[0])
                name = TICKET_CREATED
            else:
                await work.conn.execute(
                    update(offline_tickets)
                    .where(offline_tickets.c.id == ticket_id)
                    .values(contact=contact, message=message, updated_at=now)
                )
                name = TICKET_UPDATED
            ticket = await self.ticket_row(work.conn, ticket_id)
            work.emit(name, {"ticket": ticket.to_json()}, conversation_id)
        return ticket

    async def ticket_row(self, conn: Any, ticket_id: int) -> Ticket:
        """One ticket, with the reason of its handoff (on the caller's connection)."""
        query = (
            select(offline_tickets, handoffs.c.reason)
            .select_from(
                offline_tickets.outerjoin(handoffs, handoffs.c.id == offline_tickets.c.handoff_id)
            )
            .where(offline_tickets.c.id == ticket_id)
        )
        row = (await conn.execute(query)).mappings().first()
        if row is None:
            raise NotFound("no such ticket")
        return _ticket(row)

    async def contacts_given(self, conversation_id: str) -> list[str]:
        """The contact details the customer left in this conversation (its tickets)."""
        query = (
            select(offline_tickets.c.contact)
            .where(
                offline_tickets.c.conversation_id == conversation_id,
                offline_tickets.c.contact.isnot(None),
            )
            .order_by(offline_tickets.c.id)
        )
        async with self.engine.connect() as conn:
            await self._conversation_row(conn, conversation_id)
            return list((await conn.execute(query)).scalars())

    async def has_ticket(self, conversation_id: str) -> bool:
        """True when the conversation has an offline ticket (open or done)."""
        return await _has_ticket(self, conversation_id)

    async def list_tickets(self, state: str = "open") -> list[Ticket]:
        """Offline tickets in ``state`` (``open`` or ``done``), oldest first."""
        if state not in ("open", "done"):
            raise InvalidInput("state must be 'open' or 'done'")
        query = (
            select(offline_tickets, handoffs.c.reason)
            .select_from(
                offline_tickets.outerjoin(handoffs, handoffs.c.id == offline_tickets.c.handoff_id)
            )
            .where(offline_tickets.c.state == state)
            .order_by(offline_tickets.c.created_at, offline_tickets.c.id)
        )
        async with self.engine.connect() as conn:
            return [_ticket(r) for r in (await conn.execute(query)).mappings()]

    async def mark_ticket_done(self, ticket_id: int, agent_id: int) -> Ticket:
        """An agent has answered the ticket by email or phone."""
        if parse_id(ticket_id) is None:  # 40 digits fit a URL, not the database
            raise NotFound("no such ticket")
        now = self.now()
        async with self.unit() as work:
            result = await work.conn.execute(
                update(offline_tickets)
                .where(offline_tickets.c.id == ticket_id)
                .values(state="done", done_by=agent_id, updated_at=now)
            )
            if result.rowcount != 1:
                raise NotFound("no such ticket")
            ticket = await self.ticket_row(work.conn, ticket_id)
            work.emit(TICKET_UPDATED, {"ticket": ticket.to_json()}, ticket.conversation_id)
        return ticket

    async def record_csat(
        self, conversation_id: str, score: object, comment: str | None = None
    ) -> None:
        """Store the customer's 1-5 rating of a conversation (once per conversation);
        ``score`` is what the customer sent, checked here."""
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise InvalidInput("score must be a whole number from 1 to 5")
        if comment is not None and comment.strip() == "":
            comment = None
        if comment is not None:
            comment = clean_text(comment, MAX_MESSAGE_CHARS, "comment")
        try:
            async with self.unit() as work:
                await self._conversation_row(work.conn, conversation_id)
                await work.conn.execute(
                    insert(csat_answers).values(
                        conversation_id=conversation_id,
                        score=score,
                        comment=comment,
                        created_at=self.now(),
                    )
                )
        except IntegrityError:
            raise Conflict("this conversation has already been rated") from None


async def _has_ticket(service: ServiceBase, conversation_id: str) -> bool:
    query = (
        select(offline_tickets.c.id)
        .where(offline_tickets.c.conversation_id == conversation_id)
        .limit(1)
    )
    async with service.engine.connect() as conn:
        return (await conn.execute(query)).first() is not None
