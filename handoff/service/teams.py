"""Teams: admins keep them and their members (audited); handoffs are routed to one by the
``routing`` rules (:mod:`handoff.routing`); an agent transfers a chat they own to another
agent or to a team, with a note for whoever takes it.

A transfer is a conditional UPDATE on the chat's current owner, so of two transfers of one
chat exactly one wins; the other is told the chat is no longer theirs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ..models import agents, conversations, handoffs, team_members, teams
from ..policy import owns
from ..routing import Routing
from .assignment import AssignmentService
from .audit import Actor, record
from .base import ServiceBase, as_utc, to_conversation
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .notes import check_note, write_note
from .types import Agent, Conversation, _json


@dataclass(frozen=True)
class Team:
    """A team and the ids of its members."""

    id: int
    name: str
    member_ids: list[int]
    created_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return _json(self)


def check_team_name(name: Any) -> str:
    """1-40 characters after trimming, inner spaces collapsed."""
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name or len(name) > 40:
        raise InvalidInput("a team name must be 1-40 characters")
    return name


class TeamService(ServiceBase):
    """Teams and members, routing of new handoffs, transfers."""

    def __init__(self, base: ServiceBase, assignment: AssignmentService, routing: Routing) -> None:
        super().__init__(*base.parts())
        self.assignment = assignment  # a chat transferred to a team may be taken at once
        self.routing = routing

    # -- the team list (admins) ----------------------------------------------------------

    async def list_teams(self) -> list[Team]:
        """Every team with its members, by name."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(teams).order_by(teams.c.name))).mappings().all()
            members = (await conn.execute(select(team_members))).all()
        by_team: dict[int, list[int]] = {}
        for team_id, agent_id in members:
            by_team.setdefault(team_id, []).append(agent_id)
        return [
            Team(r["id"], r["name"], sorted(by_team.get(r["id"], [])), as_utc(r["created_at"]))
            for r in rows
        ]

    async def get_team(self, team_id: int) -> Team:
        """One team, or :class:`NotFound`."""
        for team in await self.list_teams():
            if team.id == team_id:
                return team
        raise NotFound("no such team")

    async def create(self, name: Any, *, by: Actor) -> Team:
        """A new team without members; :class:`Conflict` when the name exists."""
        name = check_team_name(name)
        now = self.now()
        try:
            async with self.unit() as work:
                result = await work.conn.execute(insert(teams).values(name=name, created_at=now))
                team_id = int(result.inserted_primary_key[0])
                await record(work.conn, by, "team.created", name, {}, now)
        except IntegrityError:
            raise Conflict(f"the team {name!r} exists") from None
        return Team(team_id, name, [], now)

    async def set_members(self, team_id: int, agent_ids: Any, *, by: Actor) -> Team:
        """Make ``agent_ids`` the team's members (audited as who joined and who left)."""
        if not isinstance(agent_ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in agent_ids
        ):
            raise InvalidInput("agent_ids must be a list of agent ids")
        wanted = set(agent_ids)
        async with self.unit() as work:
            name = await self._team_name(work.conn, team_id)
            known = set(
                (await work.conn.execute(select(agents.c.id).where(agents.c.id.in_(wanted))))
                .scalars()
                .all()
            )
            if wanted - known:
                raise NotFound(f"no such agent: {', '.join(map(str, sorted(wanted - known)))}")
            query = select(team_members.c.agent_id).where(team_members.c.team_id == team_id)
            current = set((await work.conn.execute(query)).scalars().all())
            await work.conn.execute(delete(team_members).where(team_members.c.team_id == team_id))
            for agent_id in sorted(wanted):
                await work.conn.execute(
                    insert(team_members).values(team_id=team_id, agent_id=agent_id)
                )
            detail = {"added": sorted(wanted - current), "removed": sorted(current - wanted)}
            if detail["added"] or detail["removed"]:
                await record(work.conn, by, "team.members_changed", name, detail, self.now())
        return await self.get_team(team_id)

    async def delete(self, team_id: int, *, by: Actor) -> None:
        """Remove a team; chats waiting for it go to everyone."""
        async with self.unit() as work:
            name = await self._team_name(work.conn, team_id)
            await work.conn.execute(
                update(handoffs).where(handoffs.c.team_id == team_id).values(team_id=None)
            )
            await work.conn.execute(delete(team_members).where(team_members.c.team_id == team_id))
            await work.conn.execute(delete(teams).where(teams.c.id == team_id))
            await record(work.conn, by, "team.deleted", name, {}, self.now())
        if self.settings.auto_assign:
            await self.assignment.auto_assign()

    async def _team_name(self, conn: AsyncConnection, team_id: int) -> str:
        query = select(teams.c.name).where(teams.c.id == team_id)
        name = (await conn.execute(query)).scalar_one_or_none()
        if name is None:
            raise NotFound("no such team")
        return str(name)

    # -- routing -------------------------------------------------------------------------

    async def route(
        self, conn: AsyncConnection, reason: str, context: dict[str, Any]
    ) -> int | None:
        """The id of the team the routing rules pick for a new handoff (None: everyone)."""
        name = self.routing.team_for(reason, context)
        if name is None:
            return None
        query = select(teams.c.id).where(teams.c.name == name)
        return (await conn.execute(query)).scalar_one_or_none()

    async def last_agent_of(self, conversation_id: str) -> int | None:
        """The agent who had the conversation's latest handoff (None: nobody did)."""
        query = (
            select(handoffs.c.agent_id)
            .where(handoffs.c.conversation_id == conversation_id, handoffs.c.offline.is_(False))
            .order_by(handoffs.c.id.desc())
            .limit(1)
        )
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    async def teams_of(self, conversation_ids: list[str]) -> dict[str, str | None]:
        """The team name of each conversation's open handoff (None: everyone)."""
        if not conversation_ids:
            return {}
        query = (
            select(handoffs.c.conversation_id, teams.c.name)
            .select_from(handoffs.join(teams, teams.c.id == handoffs.c.team_id))
            .where(
                handoffs.c.conversation_id.in_(conversation_ids),
                handoffs.c.closed_at.is_(None),
                handoffs.c.offline.is_(False),
            )
        )
        out: dict[str, str | None] = {cid: None for cid in conversation_ids}
        async with self.engine.connect() as conn:
            for cid, name in (await conn.execute(query)).all():
                out[cid] = name
        return out

    # -- transfer ------------------------------------------------------------------------

    async def transfer(
        self,
        conversation_id: str,
        agent: Agent,
        *,
        to_agent_id: int | None = None,
        to_team_id: int | None = None,
        note: Any = None,
    ) -> Conversation:
        """Move a chat the agent owns to another agent (who must be under their cap) or
        back to the queue for a team; ``note`` is left as a private note for them.

        Raises:
            InvalidInput: neither or both targets, a bad note, transfer to oneself.
            NotFound: no such conversation, agent or team.
            Forbidden: the chat is not (or no longer) the agent's.
            Conflict: the target agent is disabled or at their cap.
        """
        if (to_agent_id is None) == (to_team_id is None):
            raise InvalidInput("transfer to one agent (agent_id) or one team (team_id)")
        if to_agent_id == agent.id:
            raise InvalidInput("this chat is already yours")
        extra = check_note(note) if note not in (None, "") else None
        now = self.now()
        async with self.unit() as work:
            # Whose it is first (locked on PostgreSQL): a stranger learns nothing of targets.
            current = await self._conversation_row(work.conn, conversation_id, lock=True)
            if not owns(agent.id, current["state"], current["agent_id"]):
                raise Forbidden("this conversation is not (or no longer) assigned to you")
            if to_agent_id is not None:
                target = await self.assignment._lock_agent(work.conn, to_agent_id)
                if target["disabled"]:
                    raise Conflict(f"{target['name']} is deactivated")
                load = await self._agent_load(work.conn, to_agent_id)
                if load >= target["max_chats"]:
                    raise Conflict(
                        f"{target['name']} already has {load} chats (their limit is "
                        f"{target['max_chats']}): pick someone else or their team"
                    )
                taken = await self.assignment._take(
                    work, conversation_id, target, now, "transfer", previous_agent_id=agent.id
                )
                if not taken:
                    await self._not_yours(work.conn, conversation_id)
                where = str(target["name"])
            else:
                where = "team " + await self._team_name(work.conn, int(to_team_id or 0))
                await self._requeue_for_team(work, conversation_id, agent.id, to_team_id, now)
            row = await self._conversation_row(work.conn, conversation_id)
            text = f"Transferred by {agent.name} to {where}" + (f": {extra}" if extra else ".")
            await write_note(work, row, agent.id, agent.name, text[:4000], now)
        if to_team_id is not None and self.settings.auto_assign:
            await self.assignment.auto_assign()
        async with self.engine.connect() as conn:
            return to_conversation(await self._conversation_row(conn, conversation_id))

    async def _requeue_for_team(
        self, work: Any, conversation_id: str, agent_id: int, team_id: int | None, now: dt.datetime
    ) -> None:
        result = await work.conn.execute(
            update(conversations)
            .where(
                conversations.c.id == conversation_id,
                conversations.c.state == "assigned",
                conversations.c.agent_id == agent_id,
            )
            .values(state="queued", agent_id=None, updated_at=now)
        )
        if result.rowcount != 1:
            await self._not_yours(work.conn, conversation_id)
        await self._update_open_handoff(
            work.conn,
            conversation_id,
            team_id=team_id,
            agent_id=None,
            assigned_at=None,
            first_response_at=None,
        )
        self._emit_owner(work, conversation_id, None, agent_id, "transfer")
        self._emit_queue_changed(work, await self._queue_ids(work.conn))

    async def _not_yours(self, conn: AsyncConnection, conversation_id: str) -> None:
        await self._conversation_row(conn, conversation_id)  # NotFound first
        raise Forbidden("this conversation is not (or no longer) assigned to you")
