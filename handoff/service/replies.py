"""Saved replies: texts admins keep for agents to insert, edit and send.

A text may name ``{customer_name}``, ``{agent_name}`` and ``{shop_name}``; they are filled
for one conversation when the desk asks (:meth:`SavedReplyService.for_conversation`). A
value the desk does not know stays as its placeholder, so the agent sees what to fill in.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..contract import MAX_MESSAGE_CHARS
from ..models import saved_replies
from .audit import Actor, record
from .base import ServiceBase, as_utc
from .errors import Conflict, InvalidInput, NotFound
from .types import _json

PLACEHOLDERS = ("customer_name", "agent_name", "shop_name")
SHORTCUT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class SavedReply:
    """A saved reply (``text`` filled for a conversation when it comes from one)."""

    id: int
    shortcut: str
    title: str
    text: str
    created_at: dt.datetime
    updated_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return _json(self)


def _parse(text: str) -> list[tuple[str, str | None]]:
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as error:  # a lone { or }
        raise InvalidInput(f"text: {error} (write {{{{ for a brace)") from None
    out: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in parts:
        if name is not None and (name not in PLACEHOLDERS or spec or conversion):
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise InvalidInput(f"text uses {{{name}}}: placeholders are {known}")
        out.append((literal, name))
    return out


def fill(text: str, values: Mapping[str, str | None]) -> str:
    """``text`` with its placeholders replaced; unknown values keep the placeholder."""
    out = []
    for literal, name in _parse(text):
        out.append(literal)
        if name is not None:
            value = values.get(name)
            out.append(value if value else "{" + name + "}")
    return "".join(out)


def check_reply(shortcut: Any, title: Any, text: Any) -> tuple[str, str, str]:
    """Validated (shortcut, title, text), or :class:`InvalidInput` naming the field."""
    shortcut = shortcut.strip().lower() if isinstance(shortcut, str) else ""
    if not SHORTCUT_PATTERN.match(shortcut):
        raise InvalidInput(
            "shortcut must be 1-32 characters: lowercase letters, digits, '_' or '-'"
        )
    title = title.strip() if isinstance(title, str) else ""
    if not title or len(title) > 100:
        raise InvalidInput("title must be 1-100 characters")
    text = text.strip() if isinstance(text, str) else ""
    if not text or len(text) > MAX_MESSAGE_CHARS:
        raise InvalidInput(f"text must be 1-{MAX_MESSAGE_CHARS} characters")
    _parse(text)
    return shortcut, title, text


def _reply(row: Any, text: str | None = None) -> SavedReply:
    return SavedReply(
        id=row["id"],
        shortcut=row["shortcut"],
        title=row["title"],
        text=row["text"] if text is None else text,
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
    )


class SavedReplyService(ServiceBase):
    """Saved replies: admins create, change and delete them (audited); agents list them."""

    async def list_replies(self) -> list[SavedReply]:
        """Every saved reply, by shortcut, placeholders unfilled."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(saved_replies).order_by(saved_replies.c.shortcut))
            return [_reply(row) for row in rows.mappings()]

    async def for_conversation(
        self, agent_name: str, customer_name: str | None = None
    ) -> list[SavedReply]:
        """Every saved reply with its placeholders filled for one agent and customer."""
        values = {
            "agent_name": agent_name,
            "customer_name": customer_name,
            "shop_name": self.wording.shop_name,
        }
        return [
            SavedReply(r.id, r.shortcut, r.title, fill(r.text, values), r.created_at, r.updated_at)
            for r in await self.list_replies()
        ]

    async def create(self, shortcut: Any, title: Any, text: Any, *, by: Actor) -> SavedReply:
        """A new saved reply; :class:`Conflict` when the shortcut is taken."""
        shortcut, title, text = check_reply(shortcut, title, text)
        now = self.now()
        try:
            async with self.unit() as work:
                result = await work.conn.execute(
                    insert(saved_replies).values(
                        shortcut=shortcut, title=title, text=text, created_at=now, updated_at=now
                    )
                )
                reply_id = int(result.inserted_primary_key[0])
                await record(
                    work.conn,
                    by,
                    "saved_reply.created",
                    shortcut,
                    {"title": title, "text": text},
                    now,
                )
        except IntegrityError:
            raise Conflict(f"the shortcut /{shortcut} is taken") from None
        return await self.get(reply_id)

    async def get(self, reply_id: int) -> SavedReply:
        """One saved reply, or :class:`NotFound`."""
        async with self.engine.connect() as conn:
            query = select(saved_replies).where(saved_replies.c.id == reply_id)
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            raise NotFound("no such saved reply")
        return _reply(row)

    async def update(
        self, reply_id: int, shortcut: Any, title: Any, text: Any, *, by: Actor
    ) -> SavedReply:
        """Replace a saved reply's shortcut, title and text."""
        shortcut, title, text = check_reply(shortcut, title, text)
        old = await self.get(reply_id)
        now = self.now()
        try:
            async with self.unit() as work:
                result = await work.conn.execute(
                    update(saved_replies)
                    .where(saved_replies.c.id == reply_id)
                    .values(shortcut=shortcut, title=title, text=text, updated_at=now)
                )
                if result.rowcount != 1:
                    raise NotFound("no such saved reply")
                detail = {
                    key: {"from": getattr(old, key), "to": value}
                    for key, value in (("shortcut", shortcut), ("title", title), ("text", text))
                    if getattr(old, key) != value
                }
                await record(work.conn, by, "saved_reply.updated", old.shortcut, detail, now)
        except IntegrityError:
            raise Conflict(f"the shortcut /{shortcut} is taken") from None
        return await self.get(reply_id)

    async def delete(self, reply_id: int, *, by: Actor) -> None:
        """Remove a saved reply."""
        old = await self.get(reply_id)
        async with self.unit() as work:
            result = await work.conn.execute(
                delete(saved_replies).where(saved_replies.c.id == reply_id)
            )
            if result.rowcount != 1:
                raise NotFound("no such saved reply")
            await record(
                work.conn, by, "saved_reply.deleted", old.shortcut, {"text": old.text}, self.now()
            )
