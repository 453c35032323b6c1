"""Labels: admins keep the list (audited), agents put labels on conversations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from ..models import conversation_labels, labels
from .audit import Actor, record
from .base import ServiceBase, as_utc
from .errors import Conflict, InvalidInput, NotFound
from .types import Agent, _json


@dataclass(frozen=True)
class Label:
    """A label agents may put on conversations."""

    id: int
    name: str
    created_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return _json(self)


def check_label_name(name: Any) -> str:
    """1-40 characters after trimming, inner spaces collapsed."""
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name or len(name) > 40:
        raise InvalidInput("a label name must be 1-40 characters")
    return name


def _label(row: Any) -> Label:
    return Label(row["id"], row["name"], as_utc(row["created_at"]))


class LabelService(ServiceBase):
    """The label list and the labels on conversations."""

    async def list_labels(self) -> list[Label]:
        """Every label, by name."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(labels).order_by(labels.c.name))
            return [_label(row) for row in rows.mappings()]

    async def create(self, name: Any, *, by: Actor) -> Label:
        """A new label; :class:`Conflict` when the name exists."""
        name = check_label_name(name)
        now = self.now()
        try:
            async with self.unit() as work:
                result = await work.conn.execute(insert(labels).values(name=name, created_at=now))
                label_id = int(result.inserted_primary_key[0])
                await record(work.conn, by, "label.created", name, {}, now)
        except IntegrityError:
            raise Conflict(f"the label {name!r} exists") from None
        return Label(label_id, name, now)

    async def delete(self, label_id: int, *, by: Actor) -> None:
        """Remove a label from the list and from every conversation that has it."""
        async with self.unit() as work:
            query = select(labels.c.name).where(labels.c.id == label_id)
            name = (await work.conn.execute(query)).scalar_one_or_none()
            if name is None:
                raise NotFound("no such label")
            removed = await work.conn.execute(
                delete(conversation_labels).where(conversation_labels.c.label_id == label_id)
            )
            await work.conn.execute(delete(labels).where(labels.c.id == label_id))
            detail = {"removed_from_conversations": removed.rowcount}
            await record(work.conn, by, "label.deleted", name, detail, self.now())

    async def add_to(self, conversation_id: str, label_id: int, agent: Agent) -> list[Label]:
        """Put a label on a conversation (again is harmless); its labels after."""
        async with self.unit() as work:
            await self._conversation_row(work.conn, conversation_id)
            query = select(labels.c.id).where(labels.c.id == label_id)
            if (await work.conn.execute(query)).first() is None:
                raise NotFound("no such label")
            have = select(conversation_labels.c.label_id).where(
                conversation_labels.c.conversation_id == conversation_id,
                conversation_labels.c.label_id == label_id,
            )
            if (await work.conn.execute(have)).first() is None:
                await work.conn.execute(
                    insert(conversation_labels).values(
                        conversation_id=conversation_id,
                        label_id=label_id,
                        agent_id=agent.id,
                        created_at=self.now(),
                    )
                )
        return await self.labels_of(conversation_id)

    async def remove_from(self, conversation_id: str, label_id: int) -> list[Label]:
        """Take a label off a conversation (absent is harmless); its labels after."""
        async with self.unit() as work:
            await self._conversation_row(work.conn, conversation_id)
            await work.conn.execute(
                delete(conversation_labels).where(
                    conversation_labels.c.conversation_id == conversation_id,
                    conversation_labels.c.label_id == label_id,
                )
            )
        return await self.labels_of(conversation_id)

    async def labels_of(self, conversation_id: str) -> list[Label]:
        """The labels on one conversation, by name."""
        query = (
            select(labels)
            .select_from(labels.join(conversation_labels))
            .where(conversation_labels.c.conversation_id == conversation_id)
            .order_by(labels.c.name)
        )
        async with self.engine.connect() as conn:
            return [_label(row) for row in (await conn.execute(query)).mappings()]

    async def labels_by_conversation(self, conversation_ids: list[str]) -> dict[str, list[str]]:
        """Label names of many conversations at once (for the queue), by conversation."""
        if not conversation_ids:
            return {}
        query = (
            select(conversation_labels.c.conversation_id, labels.c.name)
            .select_from(labels.join(conversation_labels))
            .where(conversation_labels.c.conversation_id.in_(conversation_ids))
            .order_by(labels.c.name)
        )
        out: dict[str, list[str]] = {cid: [] for cid in conversation_ids}
        async with self.engine.connect() as conn:
            for cid, name in (await conn.execute(query)).all():
                out[cid].append(name)
        return out
