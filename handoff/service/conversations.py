"""Conversations and their messages: create, add (stored before pushed), read back."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any, Sequence

from sqlalchemy import func, insert, or_, select, update

from ..contract import MAX_MESSAGE_CHARS
from ..events import MESSAGE_CREATED
from ..models import AUTHORS, conversations, handoffs, messages
from ..policy import owns, visible_to
from ..text import MAX_ID, is_blank, parse_id, unstorable
from .base import ServiceBase, to_conversation, to_handoff
from .errors import Conflict, Forbidden, InvalidInput
from .types import Conversation, ConversationDetail, Message

MAX_BUTTONS_JSON = 8_000


def clean_text(text: Any, max_chars: int = MAX_MESSAGE_CHARS, what: str = "text") -> str:
    """Validate a message text: a non-blank string of at most ``max_chars`` characters.

    The text is stored as given (HTML included); clients render it as text.
    """
    if not isinstance(text, str):
        raise InvalidInput(f"{what} must be a string")
    if is_blank(text):
        raise InvalidInput(f"{what} must not be empty")
    reason = unstorable(text)
    if reason is not None:
        raise InvalidInput(f"{what} holds an invalid character ({reason})")
    if len(text) > max_chars:
        raise InvalidInput(f"{what} is too long: {len(text)} characters, the limit is {max_chars}")
    return text


def _after(after_id: Any) -> int:
    value = parse_id(after_id) if not isinstance(after_id, str) else None
    if value is None:
        raise InvalidInput(f"after must be a message id: a whole number from 0 to {MAX_ID}")
    return value


class ConversationService(ServiceBase):
    """Conversation and message operations."""

    async def create_conversation(self) -> Conversation:
        """Start a conversation (state ``bot``) with a server-issued unguessable id."""
        now = self.now()
        values = {
            "id": secrets.token_urlsafe(24),
            "state": "bot",
            "agent_id": None,
            "created_at": now,
            "updated_at": now,
            "closed_at": None,
        }
        async with self.unit() as work:
            await work.conn.execute(insert(conversations).values(**values))
        return to_conversation(values)

    async def get_conversation(self, conversation_id: str) -> Conversation:
        """The conversation, or :class:`NotFound`."""
        async with self.engine.connect() as conn:
            return to_conversation(await self._conversation_row(conn, conversation_id))

    async def add_message(
        self,
        conversation_id: str,
        author: str,
        text: str,
        *,
        agent_id: int | None = None,
        buttons: list[dict[str, Any]] | None = None,
    ) -> Message:
        """Store a message and publish ``message.created`` after the commit.

        Args:
            conversation_id: the conversation.
            author: ``customer``, ``bot``, ``agent`` or ``system``.
            text: 1..2000 characters, stored verbatim (HTML is text, not markup).
            agent_id: required for ``agent`` messages; must own the conversation.
            buttons: optional bot quick-reply buttons (JSON list).

        Returns:
            The stored message with its id (ids increase within the database).

        Raises:
            InvalidInput: bad author, empty or oversized text, bad buttons.
            NotFound: unknown conversation.
            Conflict: closed conversation, or a bot message while a person handles it.
            Forbidden: an agent message from an agent who does not own the chat.
        """
        [message] = await self.add_messages(
            conversation_id, author, [(text, buttons)], agent_id=agent_id
        )
        return message

    async def add_messages(
        self,
        conversation_id: str,
        author: str,
        items: Sequence[tuple[str, list[dict[str, Any]] | None]],
        *,
        agent_id: int | None = None,
    ) -> list[Message]:
        """Store several ``(text, buttons)`` messages of one author in one transaction,
        in order (a bot turn is often an answer and a question): all or none. Same rules
        and errors as :meth:`add_message`, checked for every message before any is stored.
        """
        stored, _ = await self._store(conversation_id, author, items, agent_id)
        return stored

    async def add_customer_message(self, conversation_id: str, text: str) -> tuple[Message, str]:
        """Store a customer's message; with it, the conversation's state in the same
        transaction, so the gateway routes the message without a read of its own.
        Errors as :meth:`add_message` (a closed conversation is a ``Conflict``)."""
        stored, state = await self._store(conversation_id, "customer", [(text, None)], None)
        return stored[0], state

    async def _store(
        self,
        conversation_id: str,
        author: str,
        items: Sequence[tuple[str, list[dict[str, Any]] | None]],
        agent_id: int | None,
    ) -> tuple[list[Message], str]:
        if author not in AUTHORS:
            raise InvalidInput(f"author must be one of {', '.join(AUTHORS)}")
        cleaned = []
        for text, buttons in items:
            if buttons is not None:
                if not isinstance(buttons, list) or len(json.dumps(buttons)) > MAX_BUTTONS_JSON:
                    raise InvalidInput("buttons must be a short JSON list")
            cleaned.append((clean_text(text), buttons))
        if author == "agent" and agent_id is None:
            raise InvalidInput("agent messages need the agent's id")
        if author != "agent":
            agent_id = None
        now = self.now()
        stored: list[Message] = []
        async with self.unit() as work:
            conv = await self._conversation_row(work.conn, conversation_id, lock=True)
            self._check_author_may_write(conv, author, agent_id)
            agent_name = await self._agent_name(work.conn, agent_id)
            for text, buttons in cleaned:
                result = await work.conn.execute(
                    insert(messages).values(
                        conversation_id=conversation_id,
                        author=author,
                        agent_id=agent_id,
                        text=text,
                        buttons=buttons,
                        created_at=now,
                    )
                )
                message = Message(
                    id=int(result.inserted_primary_key[0]),
                    conversation_id=conversation_id,
                    author=author,
                    text=text,
                    created_at=now,
                    agent_id=agent_id,
                    agent_name=agent_name,
                    buttons=buttons,
                )
                payload = message.to_json()
                payload["conversation_state"] = conv["state"]
                payload["conversation_agent_id"] = conv["agent_id"]
                work.emit(MESSAGE_CREATED, payload, conversation_id)
                stored.append(message)
            if stored:
                await work.conn.execute(
                    update(conversations)
                    .where(conversations.c.id == conversation_id)
                    .values(updated_at=now)
                )
            if author == "agent" and stored:
                await work.conn.execute(
                    update(handoffs)
                    .where(
                        handoffs.c.conversation_id == conversation_id,
                        handoffs.c.closed_at.is_(None),
                        handoffs.c.first_response_at.is_(None),
                    )
                    .values(first_response_at=now)
                )
        return stored, conv["state"]

    @staticmethod
    def _check_author_may_write(conv: Any, author: str, agent_id: int | None) -> None:
        if conv["state"] == "closed":
            raise Conflict("this conversation is closed")
        if author == "bot" and conv["state"] in ("queued", "assigned"):
            # The bot stays silent while a person is about to take or has taken over.
            raise Conflict(f"the bot must not answer while the conversation is {conv['state']}")
        if author == "agent" and not owns(agent_id, conv["state"], conv["agent_id"]):
            raise Forbidden("this conversation is not assigned to you")

    async def agent_reply(self, conversation_id: str, agent_id: int, text: str) -> Message:
        """An agent's answer in a conversation they own (see :meth:`add_message`)."""
        return await self.add_message(conversation_id, "agent", text, agent_id=agent_id)

    async def mailed_up_to(self, conversation_id: str) -> int:
        """The last agent reply of this chat mailed to the customer or seen live (0: none)."""
        async with self.engine.connect() as conn:
            return int((await self._conversation_row(conn, conversation_id))["mailed_up_to"])

    async def move_mailed_up_to(self, conversation_id: str, seen: int, to: int) -> bool:
        """Move the mark from ``seen`` to ``to``; False when another worker moved it first
        (a conditional UPDATE: of two workers claiming the same replies, one wins)."""
        async with self.unit() as work:
            changed = await work.conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id, conversations.c.mailed_up_to == seen)
                .values(mailed_up_to=to)
            )
            return changed.rowcount == 1

    async def messages_since(
        self, conversation_id: str, after_id: int = 0, limit: int = 500
    ) -> list[Message]:
        """Messages of a conversation with id > ``after_id``, oldest first.

        A client that reconnects passes the last id it saw and gets what it missed.
        """
        after_id = _after(after_id)
        async with self.engine.connect() as conn:
            await self._conversation_row(conn, conversation_id)
            return await self._message_rows(
                conn,
                (messages.c.conversation_id == conversation_id) & (messages.c.id > after_id),
                limit,
            )

    async def unanswered_customer_messages(
        self, max_age_seconds: float = 86_400, limit: int = 1000, min_age_seconds: float = 0.0
    ) -> list[Message]:
        """Customer messages of the last ``max_age_seconds`` (and at least
        ``min_age_seconds`` old) in a conversation still with the bot that nobody
        answered: the last word (the web app stopped while the assistant was thinking),
        or, since the chat's last handoff ended, followed straight by another customer
        message (with several web workers, the customer went on through another worker
        while the one answering was stopped). Oldest first."""
        following = messages.alias("following")
        next_author = (
            select(following.c.author)
            .where(
                following.c.conversation_id == messages.c.conversation_id,
                following.c.id > messages.c.id,
            )
            .order_by(following.c.id)
            .limit(1)
            .correlate(messages)
            .scalar_subquery()
        )
        handoff_ended = (
            select(func.max(handoffs.c.closed_at))
            .where(handoffs.c.conversation_id == messages.c.conversation_id)
            .correlate(messages)
            .scalar_subquery()
        )
        now = self.now()
        with_bot = select(conversations.c.id).where(conversations.c.state == "bot")
        async with self.engine.connect() as conn:
            return await self._message_rows(
                conn,
                (messages.c.author == "customer")
                & messages.c.conversation_id.in_(with_bot)
                & (messages.c.created_at >= now - dt.timedelta(seconds=max_age_seconds))
                & (messages.c.created_at <= now - dt.timedelta(seconds=min_age_seconds))
                & or_(
                    next_author.is_(None),
                    (next_author == "customer")
                    & or_(handoff_ended.is_(None), messages.c.created_at > handoff_ended),
                ),
                limit,
            )

    async def conversation_detail(self, conversation_id: str) -> ConversationDetail:
        """The conversation, its latest handoff (with context) and the full transcript."""
        async with self.engine.connect() as conn:
            conv = to_conversation(await self._conversation_row(conn, conversation_id))
            query = (
                select(handoffs)
                .where(handoffs.c.conversation_id == conversation_id)
                .order_by(handoffs.c.id.desc())
                .limit(1)
            )
            row = (await conn.execute(query)).mappings().first()
            transcript = await self._message_rows(
                conn, messages.c.conversation_id == conversation_id, 10_000
            )
        return ConversationDetail(conv, to_handoff(row) if row else None, transcript)

    async def messages_for_agent_since(
        self, agent_id: int, after_id: int, limit: int = 1000
    ) -> list[Message]:
        """What a reconnecting desk missed: messages after ``after_id`` in waiting chats
        and in the agent's own chats, oldest first."""
        after_id = _after(after_id)
        ids = select(conversations.c.id).where(visible_to(agent_id))
        async with self.engine.connect() as conn:
            return await self._message_rows(
                conn, messages.c.conversation_id.in_(ids) & (messages.c.id > after_id), limit
            )

    async def conversations_of_agent(self, agent_id: int) -> list[Conversation]:
        """Conversations currently assigned to ``agent_id``, oldest first."""
        async with self.engine.connect() as conn:
            query = (
                select(conversations)
                .where(conversations.c.agent_id == agent_id, conversations.c.state == "assigned")
                .order_by(conversations.c.created_at)
            )
            return [to_conversation(r) for r in (await conn.execute(query)).mappings()]
