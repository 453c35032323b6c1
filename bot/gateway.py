"""The conversation gateway: the I/O around the router.

Stores every customer message first, then asks Rasa (only in state ``bot``), stores
and publishes the replies, and turns the action layer's handoff request into a queue
entry or an honest offline ticket. One lock per conversation keeps a customer message
and the bot's answer together, in order, even when two requests race.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from handoff.service import Conflict, EnqueueResult, HandoffService, InvalidInput, Message
from handoff.settings import MAX_MESSAGE_CHARS

from .rasa_client import RasaClient, RasaUnavailable
from .router import (
    Action,
    BotTurn,
    handoff_reason,
    queued_notice,
    read_replies,
    route_customer_message,
    split_long,
)

logger = logging.getLogger(__name__)

#: Widget buttons that run a widget action instead of sending their title as text.
TALK_TO_PERSON = {"title": "Talk to a person", "action": "handoff"}
LEAVE_MESSAGE = {"title": "Leave a message", "action": "contact"}
LEAVE_CONTACT = {"title": "Leave my contact details", "action": "contact"}

UNAVAILABLE_AT_START = (
    "Hi! This is the Larkspur & Co. chat. Our automated assistant (a bot) is unavailable "
    "right now. You can talk to a person from our team or leave us a message."
)
UNAVAILABLE = (
    "Sorry, the automated assistant is unavailable right now. Your message is saved. "
    "You can talk to a person from our team or leave us a message."
)
BOT_BACK = "The assistant is back."
BUTTON_REQUEST_SUMMARY = 'The customer pressed "Talk to a person".'


@dataclass
class Outcome:
    """What a customer action produced (all of it is also pushed to the websocket)."""

    message: Optional[Message] = None
    replies: List[Message] = field(default_factory=list)
    conversation_id: Optional[str] = None
    handoff: Optional[EnqueueResult] = None
    assistant_unavailable: bool = False


class Gateway:
    """Routes customer messages to the bot or a person, and reacts to the desk."""

    def __init__(self, service: HandoffService, rasa: RasaClient) -> None:
        self.service = service
        self.rasa = rasa
        self._locks: "weakref.WeakValueDictionary[str, asyncio.Lock]" = (
            weakref.WeakValueDictionary()
        )

    def lock(self, conversation_id: str) -> asyncio.Lock:
        """The lock serialising everything that writes to one conversation."""
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        return lock

    async def start_conversation(self) -> Outcome:
        """A new conversation whose first message is the bot's disclosure."""
        conversation = await self.service.create_conversation()
        cid = conversation.id
        async with self.lock(cid):
            try:
                turn = read_replies(await self.rasa.start(cid))
            except RasaUnavailable as problem:
                logger.warning("conversation %s starts without the assistant: %s", cid, problem)
                notice = await self.service.add_message(
                    cid, "system", UNAVAILABLE_AT_START, buttons=[TALK_TO_PERSON, LEAVE_MESSAGE]
                )
                return Outcome(replies=[notice], assistant_unavailable=True, conversation_id=cid)
            outcome = await self._apply_turn(cid, turn)
            outcome.conversation_id = cid
            return outcome

    async def customer_message(self, conversation_id: str, text: str) -> Outcome:
        """Store the customer's message, then let the bot answer if it is the bot's turn.

        Raises:
            Conflict: the conversation is closed (nothing is stored).
            NotFound: unknown conversation.
        """
        async with self.lock(conversation_id):
            conversation = await self.service.get_conversation(conversation_id)
            route = route_customer_message(conversation.state, text)
            if route.action is Action.REFUSE:
                raise Conflict(route.reason)
            stored = await self.service.add_message(conversation_id, "customer", text)
            if route.action is Action.TO_AGENT:
                return Outcome(message=stored)
            try:
                replies = await self.rasa.send(conversation_id, route.rasa_text or text)
            except RasaUnavailable as problem:
                logger.warning("Rasa failed for %s: %s", conversation_id, problem)
                notice = await self.service.add_message(
                    conversation_id, "system", UNAVAILABLE, buttons=[TALK_TO_PERSON, LEAVE_MESSAGE]
                )
                return Outcome(message=stored, replies=[notice], assistant_unavailable=True)
            outcome = await self._apply_turn(conversation_id, read_replies(replies))
            outcome.message = stored
            return outcome

    async def request_handoff(self, conversation_id: str) -> Outcome:
        """The "Talk to a person" button: run ``action_handoff`` and act on its request."""
        async with self.lock(conversation_id):
            conversation = await self.service.get_conversation(conversation_id)
            if conversation.state != "bot":
                # Already waiting or with a person (or closed): report, change nothing.
                return Outcome(handoff=await self.service.enqueue(
                    conversation_id, "customer_request"))
            try:
                turn = read_replies(await self.rasa.execute(conversation_id, "action_handoff"))
            except RasaUnavailable as problem:
                logger.warning("action_handoff failed for %s: %s", conversation_id, problem)
                turn = BotTurn()
            if turn.handoff is None:
                turn = BotTurn(turn.messages, await self._fallback_request(conversation_id))
            return await self._apply_turn(conversation_id, turn)

    async def _fallback_request(self, conversation_id: str) -> Dict[str, Any]:
        # Without the action layer the agent still gets the reason and the transcript.
        history = await self.service.messages_since(conversation_id)
        return {
            "reason": "customer_request",
            "summary": BUTTON_REQUEST_SUMMARY,
            "transcript": [
                {"author": m.author, "text": m.text, "time": m.created_at.timestamp()}
                for m in history if m.author in ("customer", "bot")
            ],
        }

    async def _apply_turn(self, conversation_id: str, turn: BotTurn) -> Outcome:
        """Store the bot's visible messages, then act on a handoff request if any."""
        outcome = Outcome()
        for reply in turn.messages:
            parts = split_long(reply.text, MAX_MESSAGE_CHARS)
            try:
                for index, part in enumerate(parts):
                    last = index == len(parts) - 1
                    outcome.replies.append(await self.service.add_message(
                        conversation_id, "bot", part, buttons=reply.buttons if last else None))
            except Conflict:
                # A person took over meanwhile: the bot stays silent.
                logger.info("dropped a bot reply in %s: a person handles it", conversation_id)
            except InvalidInput as problem:
                logger.warning("dropped an unusable bot reply in %s: %s", conversation_id, problem)
        if turn.handoff is not None:
            result, notices = await self._enqueue(conversation_id, turn.handoff)
            outcome.handoff = result
            outcome.replies.extend(notices)
        return outcome

    async def _enqueue(
        self, conversation_id: str, request: Dict[str, Any]
    ) -> "tuple[EnqueueResult, List[Message]]":
        reason = handoff_reason(request)
        try:
            result = await self.service.enqueue(conversation_id, reason, context=request)
        except InvalidInput:
            # An oversized context must not cost the customer their place in line:
            # the desk shows the stored transcript anyway.
            slim = {k: v for k, v in request.items() if k not in ("transcript", "intents")}
            result = await self.service.enqueue(conversation_id, reason, context=slim)
        notices: List[Message] = []
        if result.outcome == "queued":
            notices.append(await self.service.add_message(
                conversation_id, "system",
                queued_notice(result.position, result.estimated_wait_seconds)))
        elif result.outcome == "offline":
            notices.append(await self.service.add_message(
                conversation_id, "system", result.message, buttons=[LEAVE_CONTACT]))
        # "assigned": the reactor announces the agent when conversation.assigned arrives.
        return result, notices

    async def agent_joined(self, conversation_id: str, agent_name: str) -> Optional[Message]:
        """Tell the customer, once, that a person joined."""
        async with self.lock(conversation_id):
            try:
                return await self.service.add_message(
                    conversation_id, "system", f"{agent_name} joined the chat.")
            except Conflict:
                return None  # closed in the meantime

    async def bot_is_back(self, conversation_id: str) -> List[Message]:
        """After a hand-back (or a cancel): the notice, then the bot's welcome back.

        ``action_handback`` greets the customer and resets the escalation counters; if
        Rasa cannot run it, the notice alone tells the customer what happened.
        """
        async with self.lock(conversation_id):
            conversation = await self.service.get_conversation(conversation_id)
            if conversation.state != "bot":
                return []
            stored = [await self.service.add_message(conversation_id, "system", BOT_BACK)]
            try:
                turn = read_replies(await self.rasa.execute(conversation_id, "action_handback"))
            except RasaUnavailable as problem:
                logger.warning("action_handback failed for %s: %s", conversation_id, problem)
                return stored
            outcome = await self._apply_turn(conversation_id, turn)
            return stored + outcome.replies
