"""The audit log: every admin change, with who made it, what it was and when.

A change and its audit row are written in the same transaction (:func:`record`), so
there is never a change without its entry, nor an entry for a change rolled back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Optional

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..models import audit_log
from .base import ServiceBase, as_utc
from .types import Agent, _json

#: Who made a change: the signed-in admin, or None for the command line on the server.
Actor = Optional[Agent]
CLI_ACTOR = "cli"


@dataclass(frozen=True)
class AuditEntry:
    """One admin change."""

    id: int
    actor_id: int | None
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    created_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return _json(self)


async def record(
    conn: AsyncConnection,
    by: Actor,
    action: str,
    target: str,
    detail: dict[str, Any],
    now: dt.datetime,
) -> None:
    """Write one audit row inside the caller's transaction (never a password)."""
    await conn.execute(
        insert(audit_log).values(
            actor_id=by.id if by is not None else None,
            actor=by.login if by is not None else CLI_ACTOR,
            action=action,
            target=target[:200],
            detail=detail,
            created_at=now,
        )
    )


class AuditService(ServiceBase):
    """Reads the audit log (writing is :func:`record`, inside each change)."""

    async def list_entries(
        self, limit: int = 200, before_id: int | None = None
    ) -> list[AuditEntry]:
        """The newest entries first (``before_id`` pages back)."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(max(1, min(limit, 1000)))
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            AuditEntry(
                id=row["id"],
                actor_id=row["actor_id"],
                actor=row["actor"],
                action=row["action"],
                target=row["target"],
                detail=row["detail"] or {},
                created_at=as_utc(row["created_at"]),
            )
            for row in rows
        ]
