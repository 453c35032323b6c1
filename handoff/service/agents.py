"""Agent accounts and presence: create, authenticate, online/away, disable."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ..auth import MIN_PASSWORD_LENGTH, hash_password, verify_password
from ..events import AGENT_STATUS_CHANGED
from ..models import ROLES, agents, conversations
from .assignment import AssignmentService
from .audit import Actor, record
from .base import ServiceBase, to_agent
from .errors import AuthFailed, Conflict, InvalidInput, NotFound
from .sessions import SessionService
from .types import Agent

LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
DEMO_LOGIN = "demo"


def check_password_strength(password: Any) -> str:
    """Reject passwords that are not strings or shorter than the minimum."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise InvalidInput("password is too long")
    return password


def check_role(role: Any) -> str:
    """``admin`` or ``agent``, else :class:`InvalidInput`."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of: {', '.join(ROLES)}")
    return str(role)


def check_cap(cap: Any) -> int:
    """A concurrent-chat cap: a whole number from 1 to 50."""
    if isinstance(cap, bool) or not isinstance(cap, int) or not 1 <= cap <= 50:
        raise InvalidInput("max chats must be a whole number from 1 to 50")
    return cap


def check_name(name: Any) -> str:
    """The name customers see: 1-100 characters after trimming."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 100:
        raise InvalidInput("name must be 1-100 characters")
    return name


class AgentService(ServiceBase):
    """Agent accounts and presence."""

    def __init__(
        self, base: ServiceBase, assignment: AssignmentService, sessions: SessionService
    ) -> None:
        super().__init__(*base.parts())
        self.assignment = assignment  # an agent who comes online may take waiting chats
        self.sessions = sessions  # a disabled agent's sessions end

    async def create_agent(
        self,
        login: str,
        name: str,
        password: str,
        max_chats: int | None = None,
        *,
        role: str = "agent",
        by: Actor = None,
        _allow_weak_password: bool = False,
    ) -> Agent:
        """Create an agent with a scrypt-hashed password (audited as made ``by``).

        Raises:
            InvalidInput: bad login (lowercase letters, digits, ``._-``), empty name,
                short password, cap outside 1-50, unknown role.
            Conflict: the login is taken.
        """
        login = (login or "").strip().lower() if isinstance(login, str) else ""
        if not LOGIN_PATTERN.match(login):
            raise InvalidInput(
                "login must be 2-64 characters: lowercase letters, digits, '.', '_' or '-'"
            )
        name = check_name(name)
        if not _allow_weak_password:
            check_password_strength(password)
        cap = check_cap(self.settings.agent_cap if max_chats is None else max_chats)
        role = check_role(role)
        hashed = await asyncio.to_thread(hash_password, password)
        now = self.now()
        try:
            async with self.unit() as work:
                result = await work.conn.execute(
                    insert(agents).values(
                        login=login,
                        name=name,
                        password_hash=hashed,
                        max_chats=cap,
                        online=False,
                        disabled=False,
                        created_at=now,
                        role=role,
                    )
                )
                agent_id = int(result.inserted_primary_key[0])
                detail = {"name": name, "max_chats": cap, "role": role}
                await record(work.conn, by, "agent.created", login, detail, now)
        except IntegrityError:
            raise Conflict(f"an agent with login {login!r} already exists") from None
        return await self.get_agent(agent_id)

    async def ensure_demo_agent(self) -> Agent:
        """Create the ``demo``/``demo`` agent for demo mode only (idempotent)."""
        try:
            return await self.get_agent_by_login(DEMO_LOGIN)
        except NotFound:
            return await self.create_agent(
                DEMO_LOGIN, "Demo Agent", "demo", role="admin", _allow_weak_password=True
            )

    async def get_agent(self, agent_id: int) -> Agent:
        """The agent with their current load, or :class:`NotFound`."""
        return await self._one_agent(agents.c.id == agent_id)

    async def get_agent_by_login(self, login: str) -> Agent:
        """The agent with this login, or :class:`NotFound`."""
        return await self._one_agent(agents.c.login == (login or "").strip().lower())

    async def _one_agent(self, where: Any) -> Agent:
        query = select(agents, self._load_subquery().label("load")).where(where)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            raise NotFound("no such agent")
        return to_agent(row)

    async def list_agents(self) -> list[Agent]:
        """All agents with their loads, by login."""
        query = select(agents, self._load_subquery().label("load")).order_by(agents.c.login)
        async with self.engine.connect() as conn:
            return [to_agent(r) for r in (await conn.execute(query)).mappings()]

    async def authenticate(self, login: str, password: str) -> Agent:
        """Check a login and password; the same error for every failure on purpose."""
        if not isinstance(login, str) or not isinstance(password, str):
            raise AuthFailed("wrong login or password")
        query = select(agents).where(agents.c.login == login.strip().lower())
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        # Hash anyway when the login is unknown so timing does not reveal logins.
        stored = row["password_hash"] if row else _DUMMY_HASH.get()
        ok = await asyncio.to_thread(verify_password, password, stored)
        if row is None or not ok or row["disabled"]:
            raise AuthFailed("wrong login or password")
        return to_agent(row)

    async def set_availability(self, agent_id: int, online: bool) -> Agent:
        """Mark an agent online (taking chats) or away; online triggers auto-assign."""
        now = self.now()
        async with self.unit() as work:
            result = await work.conn.execute(
                update(agents)
                .where(agents.c.id == agent_id, agents.c.disabled.is_(False))
                .values(online=bool(online), last_seen_at=now)
            )
            if result.rowcount != 1:
                raise NotFound("no such agent")
            work.emit(AGENT_STATUS_CHANGED, {"agent_id": agent_id, "online": bool(online)})
        if online and self.settings.auto_assign:
            await self.assignment.auto_assign()
        return await self.get_agent(agent_id)

    async def touch_agent(self, agent_id: int) -> None:
        """Record that the agent's desk is still connected (presence heartbeat)."""
        async with self.unit() as work:
            await work.conn.execute(
                update(agents).where(agents.c.id == agent_id).values(last_seen_at=self.now())
            )

    async def disable_agent(self, login: str, *, by: Actor = None) -> Agent:
        """Disable an agent: they cannot log in and their open chats go back to the queue.

        Raises:
            Conflict: the agent is the last active admin (nobody could manage the desk).
        """
        agent = await self.get_agent_by_login(login)
        now = self.now()
        async with self.unit() as work:
            if agent.is_admin:
                await self._keep_an_admin(work.conn, agent.id)
            await record(work.conn, by, "agent.deactivated", agent.login, {}, now)
            await work.conn.execute(
                update(agents).where(agents.c.id == agent.id).values(disabled=True, online=False)
            )
            owned = (
                (
                    await work.conn.execute(
                        select(conversations.c.id).where(
                            conversations.c.agent_id == agent.id,
                            conversations.c.state == "assigned",
                        )
                    )
                )
                .scalars()
                .all()
            )
            for conversation_id in owned:
                await work.conn.execute(
                    update(conversations)
                    .where(conversations.c.id == conversation_id)
                    .values(state="queued", agent_id=None, updated_at=now)
                )
                # (An offline ticket's handoff is stored closed: the open one is the chat's.)
                await self._update_open_handoff(
                    work.conn,
                    conversation_id,
                    agent_id=None,
                    assigned_at=None,
                    first_response_at=None,
                )
                self._emit_owner(work, conversation_id, None, agent.id, "agent_disabled")
            if owned:
                self._emit_queue_changed(work, await self._queue_ids(work.conn))
            work.emit(AGENT_STATUS_CHANGED, {"agent_id": agent.id, "online": False})
        if owned and self.settings.auto_assign:
            await self.assignment.auto_assign()
        return await self.get_agent(agent.id)

    async def reset_password(self, login: str, password: str, *, by: Actor = None) -> Agent:
        """Set a new password (the old one, and every session signed in with it, stop
        working at once: a stolen token must not outlive the reset)."""
        check_password_strength(password)
        agent = await self.get_agent_by_login(login)
        hashed = await asyncio.to_thread(hash_password, password)
        async with self.unit() as work:
            await work.conn.execute(
                update(agents).where(agents.c.id == agent.id).values(password_hash=hashed)
            )
            await record(work.conn, by, "agent.password_reset", agent.login, {}, self.now())
        await self.sessions.revoke_agent_sessions(agent.id)
        return agent

    async def update_agent(
        self,
        agent_id: int,
        *,
        name: str | None = None,
        max_chats: int | None = None,
        role: str | None = None,
        by: Actor = None,
    ) -> Agent:
        """Change an agent's name, cap or role (audited with the old and new values).

        Raises:
            InvalidInput: a bad value; NotFound: no such agent;
            Conflict: demoting the last active admin.
        """
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = check_name(name)
        if max_chats is not None:
            changes["max_chats"] = check_cap(max_chats)
        if role is not None:
            changes["role"] = check_role(role)
        if not changes:
            raise InvalidInput("nothing to change: give name, max_chats or role")
        async with self.unit() as work:
            row = (
                (await work.conn.execute(select(agents).where(agents.c.id == agent_id)))
                .mappings()
                .first()
            )
            if row is None:
                raise NotFound("no such agent")
            if changes.get("role") == "agent" and row["role"] == "admin":
                await self._keep_an_admin(work.conn, agent_id)
            detail = {
                key: {"from": row[key], "to": value}
                for key, value in changes.items()
                if row[key] != value
            }
            if detail:
                await work.conn.execute(
                    update(agents).where(agents.c.id == agent_id).values(**changes)
                )
                await record(work.conn, by, "agent.updated", row["login"], detail, self.now())
        return await self.get_agent(agent_id)

    async def _keep_an_admin(self, conn: Any, leaving_id: int) -> None:
        """Refuse a change that would leave the desk without an active admin."""
        query = select(agents.c.id).where(
            agents.c.role == "admin", agents.c.disabled.is_(False), agents.c.id != leaving_id
        )
        if (await conn.execute(query.limit(1))).first() is None:
            raise Conflict("this is the last active admin: make another agent admin first")


class _DummyHash:
    """A lazily computed hash of a random password, for unknown-login timing."""

    _value: str | None = None

    def get(self) -> str:
        if self._value is None:
            import secrets

            self._value = hash_password(secrets.token_urlsafe(16))
        return self._value


_DUMMY_HASH = _DummyHash()
