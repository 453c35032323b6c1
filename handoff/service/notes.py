"""Private notes: agents write them on a conversation for each other, never for the
customer.

They live in their own table and travel on their own event (``note.created``), published
without a conversation id so no customer socket (which listens by conversation id) can
ever receive one; the transcript e-mail and the customer API read ``messages`` only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select

from ..contract import MAX_MESSAGE_CHARS
from ..events import NOTE_CREATED
from ..models import agents, notes
from .base import ServiceBase, Unit, as_utc
from .errors import InvalidInput
from .types import Agent, _json


@dataclass(frozen=True)
class Note:
    """One private note on a conversation."""

    id: int
    conversation_id: str
    agent_id: int
    agent_name: str
    text: str
    created_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return _json(self)


def check_note(text: Any) -> str:
    """A note's text, trimmed: 1 to MAX_MESSAGE_CHARS characters."""
    text = text.strip() if isinstance(text, str) else ""
    if not text or len(text) > MAX_MESSAGE_CHARS:
        raise InvalidInput(f"a note must be 1-{MAX_MESSAGE_CHARS} characters")
    return text


async def write_note(
    work: Unit, conversation: Any, agent_id: int, agent_name: str, text: str, now: dt.datetime
) -> Note:
    """Insert a note in the caller's transaction; ``note.created`` goes out after commit.

    ``conversation`` is the conversation's row as it will be after the transaction (the
    desks that see it in that state get the event)."""
    result = await work.conn.execute(
        insert(notes).values(
            conversation_id=conversation["id"], agent_id=agent_id, text=text, created_at=now
        )
    )
    note = Note(
        int(result.inserted_primary_key[0]), conversation["id"], agent_id, agent_name, text, now
    )
    # No routing conversation id on purpose (see the module docstring); the desk socket
    # filters on the state and owner carried in the data.
    work.emit(
        NOTE_CREATED,
        {
            **note.to_json(),
            "conversation_state": conversation["state"],
            "conversation_agent_id": conversation["agent_id"],
        },
    )
    return note


class NoteService(ServiceBase):
    """Write and read private notes (who may is the caller's check: see ``policy``)."""

    async def add_note(self, conversation_id: str, agent: Agent, text: Any) -> Note:
        """Store a note and tell the desks that see this conversation."""
        text = check_note(text)
        async with self.unit() as work:
            row = await self._conversation_row(work.conn, conversation_id)
            return await write_note(work, row, agent.id, agent.name, text, self.now())

    async def notes_of(self, conversation_id: str) -> list[Note]:
        """A conversation's notes, oldest first."""
        query = (
            select(notes, agents.c.name.label("agent_name"))
            .select_from(notes.join(agents, agents.c.id == notes.c.agent_id))
            .where(notes.c.conversation_id == conversation_id)
            .order_by(notes.c.id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            Note(
                row["id"],
                row["conversation_id"],
                row["agent_id"],
                row["agent_name"],
                row["text"],
                as_utc(row["created_at"]),
            )
            for row in rows
        ]
