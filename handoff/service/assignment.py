"""Who owns a chat: claim, auto-assign, reassign, hand back to the bot, close.

Every ownership change is a conditional UPDATE that checks the state it expects
and that exactly one row changed, so two agents can never own one chat. On
PostgreSQL the agent's row is locked (``FOR UPDATE``) while their load is counted
so the cap holds under concurrency; SQLite serialises writers (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..events import (
    CONVERSATION_CLOSED,
    CONVERSATION_RETURNED_TO_BOT,
)
from ..models import agents, conversations, handoffs, team_members
from ..policy import may_close, owns
from .base import ServiceBase, Unit, to_conversation
from .conversations import ConversationService
from .errors import Conflict, Forbidden, NotFound
from .types import Conversation

# How many waiting chats one auto-assignment round looks at (oldest first).
ASSIGN_SCAN = 50


class AssignmentService(ServiceBase):
    """Ownership changes of conversations: claim, auto-assign, reassign, hand back, close."""

    _assign_lock: asyncio.Lock | None = None

    def __init__(self, base: ServiceBase, conversation_service: ConversationService) -> None:
        super().__init__(*base.parts())
        # To answer with the conversation as it is now.
        self.conversation_service = conversation_service

    async def claim(self, conversation_id: str, agent_id: int) -> Conversation:
        """An agent picks up a queued chat.

        Raises:
            NotFound: unknown conversation or agent.
            Conflict: already taken, not waiting, or the agent is at their cap.
            Forbidden: the agent is disabled.
        """
        now = self.now()
        async with self.unit() as work:
            agent = await self._lock_agent(work.conn, agent_id)
            if agent["disabled"]:
                raise Forbidden("your account is disabled")
            load = await self._agent_load(work.conn, agent_id)
            if load >= agent["max_chats"]:
                raise Conflict(
                    f"you already have {load} chats, the most you can take is "
                    f"{agent['max_chats']}: close or hand one back first"
                )
            if not await self._take(work, conversation_id, agent, now, "claim"):
                conv = await self._conversation_row(work.conn, conversation_id)
                if conv["state"] == "assigned":
                    if conv["agent_id"] == agent_id:
                        return to_conversation(conv)
                    name = await self._agent_name(work.conn, conv["agent_id"])
                    raise Conflict(f"this chat was already taken by {name}")
                raise Conflict(f"this chat is not waiting in the queue (it is {conv['state']})")
        return await self.conversation_service.get_conversation(conversation_id)

    async def _lock_agent(self, conn: AsyncConnection, agent_id: int) -> Any:
        query = select(agents).where(agents.c.id == agent_id).with_for_update()
        row = (await conn.execute(query)).mappings().first()
        if row is None:
            raise NotFound("no such agent")
        return row

    async def _take(
        self,
        work: Unit,
        conversation_id: str,
        agent: Any,
        now: dt.datetime,
        how: str,
        previous_agent_id: int | None = None,
    ) -> bool:
        """Conditionally move a conversation to ``agent``; True if this call did it."""
        if previous_agent_id is None:
            expected = (conversations.c.state == "queued") & conversations.c.agent_id.is_(None)
        else:
            expected = (conversations.c.state == "assigned") & (
                conversations.c.agent_id == previous_agent_id
            )
        result = await work.conn.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id, expected)
            .values(state="assigned", agent_id=agent["id"], updated_at=now)
        )
        if result.rowcount != 1:
            return False
        await self._update_open_handoff(
            work.conn,
            conversation_id,
            agent_id=agent["id"],
            assigned_at=now,
            first_response_at=None,
        )
        self._emit_owner(work, conversation_id, agent, previous_agent_id, how)
        self._emit_queue_changed(work, await self._queue_ids(work.conn))
        return True

    async def _least_busy_agent(
        self, conn: AsyncConnection, exclude: int | None = None, team_id: int | None = None
    ) -> Any | None:
        """The available agent with the fewest chats, under their cap (locked on PG).

        With ``team_id``, only the team's members, unless none of them is available
        (online): then everyone, so a chat never waits for a team that is not there. A
        team that is online but full keeps its chat waiting for it.
        """
        # Lock every available agent in id order: concurrent assigners then queue up
        # instead of both counting the same free slot (and never deadlock).
        query = (
            select(agents.c.id)
            .where(self._available_clause())
            .order_by(agents.c.id)
            .with_for_update()
        )
        ids = [i for i in (await conn.execute(query)).scalars() if i != exclude]
        if team_id is not None:
            members = select(team_members.c.agent_id).where(team_members.c.team_id == team_id)
            in_team = set((await conn.execute(members)).scalars())
            ids = [i for i in ids if i in in_team] or ids
        if not ids:
            return None
        load = self._load_subquery().label("load")
        query = (
            select(agents, load)
            .where(agents.c.id.in_(ids), load < agents.c.max_chats)
            .order_by(load, agents.c.last_seen_at.desc(), agents.c.id)
            .limit(1)
        )
        return (await conn.execute(query)).mappings().first()

    async def auto_assign(self) -> list[tuple[str, int]]:
        """Give waiting chats, oldest first, to the least busy online agents under cap.

        Called whenever capacity may have freed up (enqueue, hand-back, close, an
        agent coming online) and periodically. Returns (conversation, agent) pairs.
        """
        if self._assign_lock is None:
            self._assign_lock = asyncio.Lock()
        assigned: list[tuple[str, int]] = []
        async with self._assign_lock:
            while True:
                pair = await self._assign_one()
                if pair is None:
                    return assigned
                assigned.append(pair)

    async def _assign_one(self) -> tuple[str, int] | None:
        now = self.now()
        async with self.unit() as work:
            # Oldest first; a chat whose team is online but full waits, the next may go.
            query = (
                select(conversations.c.id, handoffs.c.team_id)
                .join(handoffs, handoffs.c.conversation_id == conversations.c.id)
                .where(
                    conversations.c.state == "queued",
                    handoffs.c.closed_at.is_(None),
                    handoffs.c.offline.is_(False),
                )
                .order_by(handoffs.c.queued_at, handoffs.c.id)
                .limit(ASSIGN_SCAN)
                .with_for_update(skip_locked=True, of=conversations)
            )
            waiting = (await work.conn.execute(query)).all()
            tried: set[int | None] = set()
            for conversation_id, team_id in waiting:
                if team_id in tried:
                    continue  # this team (or everyone) has no free slot this round
                agent = await self._least_busy_agent(work.conn, team_id=team_id)
                if agent is None:
                    tried.add(team_id)
                    continue
                if await self._take(work, conversation_id, agent, now, "auto"):
                    return conversation_id, agent["id"]
            return None

    async def reassign_unanswered(self) -> list[tuple[str, int]]:
        """Move chats whose agent has not answered within the reassign timeout.

        The chat goes to the least busy other available agent under their cap; when
        nobody else can take it, it stays where it is. Returns (conversation, new agent).
        """
        cutoff = self.now() - dt.timedelta(seconds=self.settings.reassign_after_seconds)
        query = (
            select(conversations.c.id, conversations.c.agent_id, handoffs.c.team_id)
            .join(handoffs, handoffs.c.conversation_id == conversations.c.id)
            .where(
                conversations.c.state == "assigned",
                handoffs.c.closed_at.is_(None),
                handoffs.c.offline.is_(False),
                handoffs.c.first_response_at.is_(None),
                handoffs.c.assigned_at < cutoff,
            )
            .order_by(handoffs.c.queued_at)
        )
        async with self.engine.connect() as conn:
            stale = (await conn.execute(query)).all()
        moved: list[tuple[str, int]] = []
        for conversation_id, old_agent, team_id in stale:
            now = self.now()
            async with self.unit() as work:
                agent = await self._least_busy_agent(work.conn, exclude=old_agent, team_id=team_id)
                if agent is not None and await self._take(
                    work, conversation_id, agent, now, "reassign", previous_agent_id=old_agent
                ):
                    moved.append((conversation_id, agent["id"]))
        return moved

    async def hand_back(self, conversation_id: str, agent_id: int) -> Conversation:
        """The agent returns the customer to the bot: ``assigned`` -> ``bot``."""
        now = self.now()
        async with self.unit() as work:
            await self._require_owner(work.conn, conversation_id, agent_id)
            await work.conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id, conversations.c.agent_id == agent_id)
                .values(state="bot", agent_id=None, updated_at=now)
            )
            await self._close_handoff(work.conn, conversation_id, now, "returned")
            work.emit(
                CONVERSATION_RETURNED_TO_BOT,
                {
                    "conversation_id": conversation_id,
                    "by": "agent",
                    "agent_id": agent_id,
                    "agent_name": await self._agent_name(work.conn, agent_id),
                },
                conversation_id,
            )
        await self._after_capacity_freed()
        return await self.conversation_service.get_conversation(conversation_id)

    async def _require_owner(
        self, conn: AsyncConnection, conversation_id: str, agent_id: int
    ) -> Any:
        conv = await self._conversation_row(conn, conversation_id, lock=True)
        if not owns(agent_id, conv["state"], conv["agent_id"]):
            raise Forbidden("this conversation is not assigned to you")
        return conv

    async def close(
        self, conversation_id: str, agent_id: int | None = None, reason: str = "closed"
    ) -> Conversation:
        """End a conversation (``bot``/``queued``/``assigned`` -> ``closed``).

        With ``agent_id``, the agent must own it or it must be waiting in the queue;
        without, it is the customer side closing (customer left, timeout). Closing a
        closed conversation is a no-op.
        """
        now = self.now()
        async with self.unit() as work:
            conv = await self._conversation_row(work.conn, conversation_id, lock=True)
            if conv["state"] == "closed":
                return to_conversation(conv)
            if agent_id is not None and not may_close(agent_id, conv["state"], conv["agent_id"]):
                raise Forbidden("this conversation is not assigned to you")
            await work.conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(state="closed", agent_id=None, updated_at=now, closed_at=now)
            )
            await self._close_handoff(work.conn, conversation_id, now, "closed")
            work.emit(
                CONVERSATION_CLOSED,
                {
                    "conversation_id": conversation_id,
                    "agent_id": conv["agent_id"],
                    "closed_by": "agent" if agent_id is not None else "customer",
                    "reason": reason,
                },
                conversation_id,
            )
            if conv["state"] == "queued":
                self._emit_queue_changed(work, await self._queue_ids(work.conn))
        await self._after_capacity_freed()
        return await self.conversation_service.get_conversation(conversation_id)

    async def _after_capacity_freed(self) -> None:
        if self.settings.auto_assign:
            await self.auto_assign()
