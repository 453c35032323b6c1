"""Desk sessions: a sign-in opens one, the token names it, signing out revokes it."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import delete, insert, select, update

from ..auth import issue_token
from ..events import SESSION_REVOKED
from ..models import agent_sessions
from .base import ServiceBase, as_utc
from .errors import AuthFailed


class SessionService(ServiceBase):
    """Open, check and revoke agent sessions."""

    async def open_session(self, agent_id: int) -> str:
        """Open a session for ``agent_id`` and return its signed token."""
        now = self.now()
        ttl = self.settings.token_ttl_seconds
        session_id = secrets.token_urlsafe(24)
        async with self.unit() as work:
            # Expired sessions are useless (their tokens are refused anyway): keep the
            # table as small as the sessions that can still be used.
            await work.conn.execute(
                delete(agent_sessions).where(agent_sessions.c.expires_at <= now)
            )
            await work.conn.execute(
                insert(agent_sessions).values(
                    id=session_id,
                    agent_id=agent_id,
                    created_at=now,
                    expires_at=now + dt.timedelta(seconds=ttl),
                    revoked_at=None,
                )
            )
        assert self.settings.secret_key is not None  # with_secret() ran at start-up
        return issue_token(agent_id, self.settings.secret_key, ttl, now, session_id)

    async def check_session(self, session_id: str, agent_id: int) -> None:
        """Raise :class:`AuthFailed` unless the session is the agent's and still live."""
        query = select(agent_sessions.c.revoked_at, agent_sessions.c.expires_at).where(
            agent_sessions.c.id == session_id, agent_sessions.c.agent_id == agent_id
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= self.now():
            raise AuthFailed("your session has ended, please sign in again")

    async def revoke_session(self, session_id: str) -> None:
        """End a session now (sign-out); its open desk websockets close."""
        async with self.unit() as work:
            result = await work.conn.execute(
                update(agent_sessions)
                .where(agent_sessions.c.id == session_id, agent_sessions.c.revoked_at.is_(None))
                .values(revoked_at=self.now())
            )
            if result.rowcount == 1:
                work.emit(SESSION_REVOKED, {"session_id": session_id})

    async def revoke_agent_sessions(self, agent_id: int) -> int:
        """End every live session of an agent (a new password); returns how many."""
        now = self.now()
        async with self.unit() as work:
            live = (
                (
                    await work.conn.execute(
                        select(agent_sessions.c.id).where(
                            agent_sessions.c.agent_id == agent_id,
                            agent_sessions.c.revoked_at.is_(None),
                            agent_sessions.c.expires_at > now,
                        )
                    )
                )
                .scalars()
                .all()
            )
            if live:
                await work.conn.execute(
                    update(agent_sessions)
                    .where(agent_sessions.c.id.in_(live))
                    .values(revoked_at=now)
                )
            for session_id in live:
                work.emit(SESSION_REVOKED, {"session_id": session_id})
        return len(live)
