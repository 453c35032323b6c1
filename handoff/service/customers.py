"""Returning customers: a signed identity links conversations to one customer row, and
the desk sees that customer's earlier conversations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ..models import conversations, csat_answers, customers, handoffs, messages
from .base import ServiceBase, as_utc, to_conversation
from .errors import NotFound
from .types import Conversation, Customer, CustomerCard, Message, PastConversation

EARLIER_SHOWN = 20  # the desk lists this many earlier conversations, newest first
SHORT_ID = 6  # characters of a conversation id in "Visitor 3fQx9a"


def visitor_label(conversation_id: str) -> str:
    """What the desk calls an anonymous customer: "Visitor" and a short id of the chat."""
    return f"Visitor {conversation_id[:SHORT_ID]}"


def customer_label(conversation_id: str, name: str | None) -> str:
    """What the desk calls the customer behind a chat: their name when the shop gave one,
    else :func:`visitor_label` (one rule for the card, the queue, the lists and search)."""
    return name or visitor_label(conversation_id)


def _customer(row: Any) -> Customer:
    return Customer(
        id=row["id"],
        external_id=row["external_id"],
        name=row["name"],
        email=row["email"],
        created_at=as_utc(row["created_at"]),
        last_seen_at=as_utc(row["last_seen_at"]),
    )


class CustomerService(ServiceBase):
    """Link chats to identified customers; read a customer's earlier chats."""

    async def identify(
        self, conversation_id: str, external_id: str, name: str | None, email: str | None
    ) -> Customer:
        """Link a conversation to the customer ``external_id`` (created on first sight;
        the name and e-mail are the ones the shop gave last). The caller has checked the
        shop's signature: nothing here trusts an unsigned identity."""
        now = self.now()
        try:
            return await self._identify(conversation_id, external_id, name, email, now)
        except IntegrityError:
            # Two first chats of one new customer at once: the other one created the row.
            return await self._identify(conversation_id, external_id, name, email, now)

    async def _identify(
        self,
        conversation_id: str,
        external_id: str,
        name: str | None,
        email: str | None,
        now: dt.datetime,
    ) -> Customer:
        async with self.unit() as work:
            await self._conversation_row(work.conn, conversation_id)
            row = await self._by_external_id(work.conn, external_id)
            if row is None:
                await work.conn.execute(
                    insert(customers).values(
                        external_id=external_id,
                        name=name,
                        email=email,
                        created_at=now,
                        last_seen_at=now,
                    )
                )
            else:
                await work.conn.execute(
                    update(customers)
                    .where(customers.c.id == row["id"])
                    .values(name=name, email=email, last_seen_at=now)
                )
            row = await self._by_external_id(work.conn, external_id)
            # Only an anonymous chat is linked: a chat never changes hands between customers.
            await work.conn.execute(
                update(conversations)
                .where(
                    conversations.c.id == conversation_id,
                    conversations.c.customer_id.is_(None),
                )
                .values(customer_id=row["id"])
            )
        return _customer(row)

    async def _by_external_id(self, conn: AsyncConnection, external_id: str) -> Any:
        query = select(customers).where(customers.c.external_id == external_id)
        return (await conn.execute(query)).mappings().first()

    async def recent_conversation(
        self, external_id: str, within_seconds: float
    ) -> Conversation | None:
        """The customer's latest conversation that is still open and was active in the
        last ``within_seconds`` (to continue it on another device), or None."""
        since = self.now() - dt.timedelta(seconds=within_seconds)
        query = (
            select(conversations)
            .join(customers, customers.c.id == conversations.c.customer_id)
            .where(
                customers.c.external_id == external_id,
                conversations.c.state != "closed",
                conversations.c.updated_at >= since,
            )
            .order_by(conversations.c.updated_at.desc())
            .limit(1)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return to_conversation(row) if row else None

    async def customer_card(self, conversation_id: str) -> CustomerCard:
        """Who is behind ``conversation_id`` and their earlier conversations (newest
        first, at most ``EARLIER_SHOWN``); anonymous chats have none."""
        async with self.engine.connect() as conn:
            conversation = await self._conversation_row(conn, conversation_id)
            customer_id = conversation["customer_id"]
            if customer_id is None:
                return CustomerCard(visitor_label(conversation_id), None)
            query = select(customers).where(customers.c.id == customer_id)
            customer = _customer((await conn.execute(query)).mappings().one())
            earlier = await self._earlier(conn, customer_id, conversation_id)
        return CustomerCard(customer_label(conversation_id, customer.name), customer, earlier)

    async def customer_labels(self, conversation_ids: list[str]) -> dict[str, str]:
        """The desk's label of each conversation in ``conversation_ids`` (unknown ids are
        left out), in one query."""
        if not conversation_ids:
            return {}
        query = (
            select(conversations.c.id, customers.c.name)
            .select_from(
                conversations.outerjoin(customers, customers.c.id == conversations.c.customer_id)
            )
            .where(conversations.c.id.in_(conversation_ids))
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {cid: customer_label(cid, name) for cid, name in rows}

    async def customer_name(self, conversation_id: str) -> str | None:
        """The identified customer's name behind ``conversation_id``; None when the chat
        is anonymous or the shop gave no name."""
        query = (
            select(customers.c.name)
            .select_from(
                conversations.join(customers, customers.c.id == conversations.c.customer_id)
            )
            .where(conversations.c.id == conversation_id)
        )
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    async def _earlier(
        self, conn: AsyncConnection, customer_id: int, current_id: str
    ) -> list[PastConversation]:
        latest_reason = (
            select(handoffs.c.reason)
            .where(handoffs.c.conversation_id == conversations.c.id)
            .order_by(handoffs.c.id.desc())
            .limit(1)
            .correlate(conversations)
            .scalar_subquery()
        )
        query = (
            select(conversations, latest_reason.label("reason"), csat_answers.c.score)
            .select_from(
                conversations.outerjoin(
                    csat_answers, csat_answers.c.conversation_id == conversations.c.id
                )
            )
            .where(conversations.c.customer_id == customer_id, conversations.c.id != current_id)
            .order_by(conversations.c.created_at.desc())
            .limit(EARLIER_SHOWN)
        )
        return [
            PastConversation(
                id=row["id"],
                state=row["state"],
                created_at=as_utc(row["created_at"]),
                closed_at=as_utc(row["closed_at"]),
                reason=row["reason"],
                csat=row["score"],
            )
            for row in (await conn.execute(query)).mappings()
        ]

    async def earlier_messages(self, conversation_id: str, earlier_id: str) -> list[Message]:
        """The transcript of ``earlier_id``, only when it is the same identified customer's
        as ``conversation_id`` (:class:`NotFound` otherwise: anonymous chats are never
        linked to each other)."""
        async with self.engine.connect() as conn:
            current = await self._conversation_row(conn, conversation_id)
            earlier = await self._conversation_row(conn, earlier_id)
            if current["customer_id"] is None or current["customer_id"] != earlier["customer_id"]:
                raise NotFound("no earlier conversation of this customer with that id")
            return await self._message_rows(conn, messages.c.conversation_id == earlier_id, 10_000)
