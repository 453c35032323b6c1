"""Search past conversations: words in messages (full text) or in the identified
customer's name and e-mail, the contact the customer left (or the customer's name and
e-mail), label, team, reason and date range, in one interface over both databases.

SQLite matches message words with its FTS5 table ``messages_fts``, PostgreSQL with the GIN
index on ``to_tsvector('simple', text)`` (both made by migration 0004); everything else,
the customers' names and e-mails included (few rows, short texts), is plain SQL. Without
words it lists conversations (newest first) by the other filters.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, func, literal_column, or_, select, text
from sqlalchemy.sql.elements import ColumnElement

from ..contract import REASONS
from ..models import (
    conversation_labels,
    conversations,
    customers,
    handoffs,
    labels,
    messages,
    offline_tickets,
    teams,
)
from .base import ServiceBase, as_utc
from .customers import customer_label
from .errors import InvalidInput
from .types import _json

MAX_RESULTS = 100
SNIPPET_CHARS = 200
WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SearchQuery:
    """What to look for; every part optional (all given parts must match)."""

    words: str = ""
    contact: str = ""
    label: str | None = None
    team: str | None = None
    reason: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int = 50

    def check(self) -> SearchQuery:
        """The query, or :class:`InvalidInput` naming the bad part."""
        if len(self.words) > 200 or len(self.contact) > 200:
            raise InvalidInput("search words and contact must be at most 200 characters")
        if self.reason is not None and self.reason not in REASONS:
            raise InvalidInput(f"reason must be one of {', '.join(REASONS)}")
        if self.since and self.until and self.since > self.until:
            raise InvalidInput("the date range ends before it starts")
        if not 1 <= self.limit <= MAX_RESULTS:
            raise InvalidInput(f"limit must be 1-{MAX_RESULTS}")
        return self


@dataclass(frozen=True)
class SearchHit:
    """One conversation found, with what the list shows."""

    conversation_id: str
    state: str
    created_at: dt.datetime
    updated_at: dt.datetime
    reason: str | None
    team: str | None
    labels: list[str] = field(default_factory=list)
    snippet: str | None = None
    contact: str | None = None
    customer_label: str = ""  # the identified customer's name, else "Visitor 3fQx9a"
    customer_email: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _json(self)


def words_of(raw: str) -> list[str]:
    """The words of a search box (punctuation and operators dropped: input is never syntax)."""
    return WORD.findall(raw.lower())[:12]


class SearchService(ServiceBase):
    """Past conversations by words, contact, label, team, reason and dates."""

    def _matches_words(self, words: list[str]) -> ColumnElement[bool]:
        """SQL true for messages holding every word (prefix match on the last one)."""
        if self.engine.dialect.name == "sqlite":
            # Each word quoted: FTS5 reads AND/OR/NEAR/* in the raw input as operators.
            expr = " ".join(f'"{w}"' for w in words[:-1]) + f' "{words[-1]}"*'
            hits = text("SELECT rowid FROM messages_fts WHERE messages_fts MATCH :fts").bindparams(
                fts=expr.strip()
            )
            return messages.c.id.in_(hits.columns(literal_column("rowid")))
        query = " & ".join(words[:-1] + [words[-1] + ":*"])
        # The expression of the migration's GIN index, to the letter (see 0004).
        spaced = func.translate(
            messages.c.text, literal_column("'-./@_:'"), literal_column("'      '")
        )
        vector = func.to_tsvector(literal_column("'simple'"), spaced)
        return vector.op("@@")(func.to_tsquery(literal_column("'simple'"), query))

    @staticmethod
    def _customer_has(words: list[str]) -> ColumnElement[bool]:
        """SQL true when the conversation's customer's name or e-mail holds every word
        (as a part of a word: "ana" finds "Ana" and "ana.p@example.org")."""
        who = func.lower(
            func.coalesce(customers.c.name, "") + " " + func.coalesce(customers.c.email, "")
        )
        return and_(*(who.contains(word, autoescape=True) for word in words))

    async def search(self, query: SearchQuery) -> list[SearchHit]:
        """Conversations matching ``query``, most recently active first."""
        query = query.check()
        where: list[Any] = []
        words = words_of(query.words)
        matching = None
        if words:
            matching = (
                select(
                    messages.c.conversation_id.label("cid"),
                    func.max(messages.c.id).label("message_id"),
                )
                .where(self._matches_words(words))
                .group_by(messages.c.conversation_id)
                .subquery()
            )
        if query.contact.strip():
            pattern = "%" + query.contact.strip().lower().replace("%", "").replace("_", "") + "%"
            where.append(
                or_(
                    exists().where(
                        offline_tickets.c.conversation_id == conversations.c.id,
                        func.lower(offline_tickets.c.contact).like(pattern),
                    ),
                    func.lower(customers.c.name).like(pattern),
                    func.lower(customers.c.email).like(pattern),
                )
            )
        if query.label:
            where.append(
                exists().where(
                    conversation_labels.c.conversation_id == conversations.c.id,
                    conversation_labels.c.label_id == labels.c.id,
                    labels.c.name == query.label,
                )
            )
        if query.reason or query.team:
            conditions = [handoffs.c.conversation_id == conversations.c.id]
            if query.reason:
                conditions.append(handoffs.c.reason == query.reason)
            if query.team:
                conditions += [handoffs.c.team_id == teams.c.id, teams.c.name == query.team]
            where.append(exists().where(and_(*conditions)))
        if query.since:
            where.append(conversations.c.created_at >= query.since)
        if query.until:
            where.append(conversations.c.created_at < query.until)
        columns = [
            conversations,
            customers.c.name.label("customer_name"),
            customers.c.email.label("customer_email"),
        ]
        source: Any = conversations.outerjoin(
            customers, customers.c.id == conversations.c.customer_id
        )
        if matching is not None:
            # A conversation matches by its messages or by who the customer is.
            source = source.outerjoin(matching, matching.c.cid == conversations.c.id)
            where.append(or_(matching.c.cid.is_not(None), self._customer_has(words)))
            columns.append(matching.c.message_id)
        statement = (
            select(*columns)
            .select_from(source)
            .where(*where)
            .order_by(conversations.c.updated_at.desc(), conversations.c.id)
            .limit(query.limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(statement)).mappings().all()
            return await self._hits(conn, rows)

    async def _hits(self, conn: Any, rows: list[Any]) -> list[SearchHit]:
        ids = [row["id"] for row in rows]
        if not ids:
            return []
        latest = (
            select(handoffs.c.conversation_id, handoffs.c.reason, teams.c.name)
            .select_from(handoffs.outerjoin(teams, teams.c.id == handoffs.c.team_id))
            .where(handoffs.c.conversation_id.in_(ids))
            .order_by(handoffs.c.id)
        )
        handoff_of = {cid: (reason, team) for cid, reason, team in (await conn.execute(latest))}
        label_query = (
            select(conversation_labels.c.conversation_id, labels.c.name)
            .select_from(labels.join(conversation_labels))
            .where(conversation_labels.c.conversation_id.in_(ids))
            .order_by(labels.c.name)
        )
        labels_of: dict[str, list[str]] = {}
        for cid, name in await conn.execute(label_query):
            labels_of.setdefault(cid, []).append(name)
        contact_query = select(offline_tickets.c.conversation_id, offline_tickets.c.contact).where(
            offline_tickets.c.conversation_id.in_(ids), offline_tickets.c.contact.is_not(None)
        )
        contact_of = {cid: contact for cid, contact in await conn.execute(contact_query)}
        snippet_ids = [row["message_id"] for row in rows if "message_id" in row.keys()]
        snippets = {}
        if snippet_ids:
            found = select(messages.c.id, messages.c.text).where(messages.c.id.in_(snippet_ids))
            snippets = {mid: body[:SNIPPET_CHARS] for mid, body in await conn.execute(found)}
        hits = []
        for row in rows:
            reason, team = handoff_of.get(row["id"], (None, None))
            hits.append(
                SearchHit(
                    conversation_id=row["id"],
                    state=row["state"],
                    created_at=as_utc(row["created_at"]),
                    updated_at=as_utc(row["updated_at"]),
                    reason=reason,
                    team=team,
                    labels=labels_of.get(row["id"], []),
                    snippet=snippets.get(row.get("message_id")),
                    contact=contact_of.get(row["id"]),
                    customer_label=customer_label(row["id"], row["customer_name"]),
                    customer_email=row["customer_email"],
                )
            )
        return hits
