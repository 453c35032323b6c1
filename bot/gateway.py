"""The conversation gateway: the I/O around the router.

Stores every customer message first, then asks Rasa (only in state ``bot``), stores
and publishes the replies, and turns the action layer's handoff request into a queue
entry or an honest offline ticket. One lock per conversation keeps a customer message
and the bot's answer together, in order, even when two requests race.

Sanic cancels a request handler when its client disconnects. A customer who closes the
tab while Rasa thinks must still find the answer stored (Rasa's tracker has moved on),
so every customer-initiated operation runs in a task of its own that the gateway keeps
and the request merely awaits (shielded); :meth:`Gateway.drain` lets shutdown finish
them.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field
from typing import Any, Coroutine, Mapping, Sequence, TypeVar

from handoff.contract import (
    HANDOFF_REQUEST_VERSION,
    MAX_MESSAGE_CHARS,
    HandoffReason,
    read_handoff_request,
)
from handoff.messages import Messages
from handoff.service import (
    Conflict,
    EnqueueResult,
    HandoffService,
    InvalidInput,
    Message,
    ServiceError,
)

from .notices import (
    HUMAN_REQUEST_INTENT,
    OUTAGE_REQUEST_SUMMARY,
    button_request_summary,
    contact_buttons,
    person_or_message_buttons,
    queued_notice,
)
from .rasa_client import RasaBusy, RasaClient, RasaSilent, RasaUnavailable
from .router import (
    CLOSED,
    Action,
    BotMessage,
    BotTurn,
    asks_for_person,
    read_replies,
    route_customer_message,
    split_long,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Outcome:
    """What a customer action produced (all of it is also pushed to the websocket)."""

    message: Message | None = None
    replies: list[Message] = field(default_factory=list)
    conversation_id: str | None = None
    handoff: EnqueueResult | None = None
    # No answer from the assistant; ``assistant_busy`` too when the reason is load.
    assistant_unavailable: bool = False
    assistant_busy: bool = False


class Gateway:
    """Routes customer messages to the bot or a person, and reacts to the desk."""

    #: "Talk to a person" waits this long for a Rasa slot, then hands off without Rasa.
    handoff_slot_seconds = 2.0

    def __init__(self, service: HandoffService, rasa: RasaClient, wording: Messages) -> None:
        self.service = service
        self.rasa = rasa
        self.wording = wording
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._tasks: set[asyncio.Task[Any]] = set()
        # Conversations whose session start showed nothing (the action server was down):
        # the disclosure is still owed, and Rasa's tracker ends in the failed start.
        self._unopened: set[str] = set()

    def _read(self, replies: Sequence[Mapping[str, Any]]) -> BotTurn:
        return read_replies(replies, self.wording.say("choose"))

    @property
    def pending(self) -> int:
        """Customer operations still running (some perhaps for a client that left)."""
        return len(self._tasks)

    async def _detached(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` to completion even if the caller is cancelled (client gone)."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(_log_orphan_failure)
            raise

    async def drain(self, timeout: float) -> None:
        """Shutdown: let running customer operations finish, cancel what is left."""
        if not self._tasks:
            return
        _, late = await asyncio.wait(set(self._tasks), timeout=timeout)
        if late:
            logger.warning("cancelling %d customer operations still running at shutdown", len(late))
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    def lock(self, conversation_id: str) -> asyncio.Lock:
        """The lock serialising everything that writes to one conversation."""
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        return lock

    async def start_conversation(self) -> Outcome:
        """A new conversation whose first message is the bot's disclosure."""
        return await self._detached(self._start_conversation())

    async def _start_conversation(self) -> Outcome:
        conversation = await self.service.create_conversation()
        cid = conversation.id
        async with self.lock(cid):
            try:
                turn = self._read(await self.rasa.start(cid))
                if turn.silent:
                    self._unopened.add(cid)
                    raise RasaSilent(
                        "the session start showed nothing (are the custom actions down?)"
                    )
            except RasaUnavailable as problem:
                logger.warning("conversation %s starts without the assistant: %s", cid, problem)
                outcome = await self._without_assistant(
                    cid, problem, "busy_at_start", "unavailable_at_start"
                )
                outcome.conversation_id = cid
                return outcome
            outcome = await self._apply_turn(cid, turn)
            outcome.conversation_id = cid
            return outcome

    async def customer_message(self, conversation_id: str, text: str) -> Outcome:
        """Store the customer's message, then let the bot answer if it is the bot's turn.

        Raises:
            Conflict: the conversation is closed (nothing is stored).
            NotFound: unknown conversation.
        """
        return await self._detached(self._customer_message(conversation_id, text))

    async def _customer_message(self, conversation_id: str, text: str) -> Outcome:
        # The wait for Rasa counts from arrival: time spent behind this conversation's
        # earlier messages is part of it, so the customer's wait stays bounded.
        arrived = asyncio.get_running_loop().time()
        async with self.lock(conversation_id):
            # One transaction stores the message and reads the state it is routed on.
            try:
                stored, state = await self.service.add_customer_message(conversation_id, text)
            except Conflict:
                raise Conflict(CLOSED) from None
            route = route_customer_message(state, text)
            if route.action is not Action.ASK_BOT:
                return Outcome(message=stored)
            outcome = await self._ask_bot(conversation_id, text, route.rasa_text or text, arrived)
            outcome.message = stored
            return outcome

    async def _ask_bot(
        self, conversation_id: str, text: str, rasa_text: str, arrived: float
    ) -> Outcome:
        """Rasa's answer to a stored customer message; without one, the honest notice
        (or a handoff, when the customer asked for a person)."""

        def remaining() -> float:
            waited = asyncio.get_running_loop().time() - arrived
            return max(0.0, self.rasa.queue_seconds - waited)

        opening: list[Message] = []
        owed = conversation_id in self._unopened
        try:
            if owed:
                opening = await self._open_again(conversation_id, remaining())
            turn = self._read(await self.rasa.send(conversation_id, rasa_text, wait=remaining()))
            if turn.silent and not owed and not await self._bot_has_spoken(conversation_id):
                # Opened during an outage by an earlier run of the web app: owe the
                # disclosure, then ask again in the fresh session.
                opening = await self._open_again(conversation_id, remaining())
                if opening:
                    turn = self._read(
                        await self.rasa.send(conversation_id, rasa_text, wait=remaining())
                    )
            if turn.silent:
                # Rasa answers 200 with nothing when a custom action fails.
                raise RasaSilent("Rasa's answer showed nothing (are the custom actions down?)")
        except RasaUnavailable as problem:
            logger.warning("Rasa failed for %s: %s", conversation_id, problem)
            # Busy: Rasa never saw the message, so sending it again is safe.
            outcome = await self._outage_answer(conversation_id, text, rasa_text, problem)
        else:
            outcome = await self._apply_turn(conversation_id, turn)
        outcome.replies[:0] = opening
        return outcome

    async def _open_again(self, conversation_id: str, wait: float) -> list[Message]:
        """Run the session start again for a chat opened while the actions were down:
        stores and returns the disclosure, or nothing while they are still down."""
        turn = self._read(await self.rasa.start(conversation_id, wait=wait))
        if turn.silent:
            self._unopened.add(conversation_id)
            return []
        self._unopened.discard(conversation_id)
        return (await self._apply_turn(conversation_id, turn)).replies

    async def _bot_has_spoken(self, conversation_id: str) -> bool:
        history = await self.service.messages_since(conversation_id)
        return any(message.author == "bot" for message in history)

    async def _outage_answer(
        self, conversation_id: str, text: str, rasa_text: str, problem: RasaUnavailable
    ) -> Outcome:
        """Without the assistant a typed request for a person still reaches one; any
        other message gets the honest notice (busy or unavailable)."""
        if await self._asks_for_person(text, rasa_text, problem):
            request = self._fallback_request(OUTAGE_REQUEST_SUMMARY)
            outcome = await self._apply_turn(conversation_id, BotTurn([], request))
            outcome.assistant_unavailable = True
            outcome.assistant_busy = isinstance(problem, RasaBusy)
            return outcome
        return await self._without_assistant(conversation_id, problem, "busy", "unavailable")

    async def _asks_for_person(self, text: str, rasa_text: str, problem: RasaUnavailable) -> bool:
        # Rasa's NLU still works when only the custom actions are down; when Rasa
        # itself is down or full, a plain word match decides.
        if isinstance(problem, RasaSilent):
            try:
                return await self.rasa.intent(rasa_text, wait=0) == HUMAN_REQUEST_INTENT
            except RasaUnavailable:
                pass
        return asks_for_person(text)

    async def _without_assistant(
        self, conversation_id: str, problem: RasaUnavailable, busy_key: str, down_key: str
    ) -> Outcome:
        """The honest notice when Rasa gave no answer: busy (load) or unavailable (the
        keys name the messages of shop.yml)."""
        busy = isinstance(problem, RasaBusy)
        notice = await self.notice(
            conversation_id, self.wording.say(busy_key if busy else down_key)
        )
        return Outcome(replies=[notice], assistant_unavailable=True, assistant_busy=busy)

    async def notice(self, conversation_id: str, text: str) -> Message:
        """Store a notice that the assistant cannot help, with the person and message
        buttons (the caller holds the conversation's lock)."""
        return await self.service.add_message(
            conversation_id, "system", text, buttons=person_or_message_buttons(self.wording)
        )

    async def store_turn(self, conversation_id: str, turn: BotTurn) -> Outcome:
        """Store a bot turn that arrived late, and act on its handoff request (the caller
        holds the conversation's lock)."""
        return await self._apply_turn(conversation_id, turn)

    async def request_handoff(self, conversation_id: str) -> Outcome:
        """The "Talk to a person" button: run ``action_handoff`` and act on its request.

        Never refused because of load: without a Rasa slot soon, the handoff goes ahead
        with the fallback context, as when Rasa is down.
        """
        return await self._detached(self._request_handoff(conversation_id))

    async def _request_handoff(self, conversation_id: str) -> Outcome:
        async with self.lock(conversation_id):
            conversation = await self.service.get_conversation(conversation_id)
            if conversation.state != "bot":
                # Already waiting or with a person (or closed): report, change nothing.
                return Outcome(
                    handoff=await self.service.enqueue(conversation_id, "customer_request")
                )
            try:
                turn = self._read(
                    await self.rasa.execute(
                        conversation_id, "action_handoff", wait=self.handoff_slot_seconds
                    )
                )
            except RasaUnavailable as problem:  # RasaBusy included
                logger.warning("action_handoff failed for %s: %s", conversation_id, problem)
                turn = BotTurn()
            if turn.handoff is None:
                turn = BotTurn(
                    turn.messages, self._fallback_request(button_request_summary(self.wording))
                )
            return await self._apply_turn(conversation_id, turn)

    @staticmethod
    def _fallback_request(summary: str) -> dict[str, Any]:
        # Without the action layer the agent still gets the reason and a summary; the
        # desk shows the stored messages themselves.
        return {
            "version": HANDOFF_REQUEST_VERSION,
            "reason": HandoffReason.CUSTOMER_REQUEST.value,
            "summary": summary,
        }

    async def _apply_turn(self, conversation_id: str, turn: BotTurn) -> Outcome:
        """Store the bot's visible messages, then act on a handoff request if any."""
        outcome = Outcome()
        replies = [self._parts(reply) for reply in turn.messages]
        try:
            # One transaction for the whole turn (an answer and its follow-up question).
            outcome.replies = await self.service.add_messages(
                conversation_id, "bot", [part for parts in replies for part in parts]
            )
        except Conflict:
            # A person took over meanwhile: the bot stays silent.
            logger.info("dropped the bot's replies in %s: a person handles it", conversation_id)
        except InvalidInput:
            # One unusable reply must not cost the others: store them one by one.
            outcome.replies = await self._store_each(conversation_id, replies)
        if turn.handoff is not None:
            result, notices = await self._enqueue(conversation_id, turn.handoff)
            outcome.handoff = result
            outcome.replies.extend(notices)
        return outcome

    @staticmethod
    def _parts(reply: BotMessage) -> list[tuple[str, list[dict[str, str]] | None]]:
        # An over-long reply becomes several messages; the buttons go with the last.
        parts = split_long(reply.text, MAX_MESSAGE_CHARS)
        return [
            (part, reply.buttons if index == len(parts) - 1 else None)
            for index, part in enumerate(parts)
        ]

    async def _store_each(
        self, conversation_id: str, replies: list[list[tuple[str, Any]]]
    ) -> list[Message]:
        stored: list[Message] = []
        for parts in replies:
            try:
                stored.extend(await self.service.add_messages(conversation_id, "bot", parts))
            except Conflict:
                logger.info("dropped a bot reply in %s: a person handles it", conversation_id)
            except InvalidInput as problem:
                logger.warning("dropped an unusable bot reply in %s: %s", conversation_id, problem)
        return stored

    async def _enqueue(
        self, conversation_id: str, sent: Mapping[str, Any]
    ) -> tuple[EnqueueResult, list[Message]]:
        request = read_handoff_request(sent)  # version 1 or 2, as version 2
        reason = request["reason"]
        try:
            result = await self.service.enqueue(conversation_id, reason, context=dict(request))
        except InvalidInput:
            # An oversized context must not cost the customer their place in line:
            # the intents seen are the one part that grows with the chat.
            slim = {k: v for k, v in request.items() if k != "intents"}
            result = await self.service.enqueue(conversation_id, reason, context=slim)
        notices: list[Message] = []
        if result.outcome == "queued":
            notices.append(
                await self.service.add_message(
                    conversation_id,
                    "system",
                    queued_notice(self.wording, result.position, result.estimated_wait_seconds),
                )
            )
        elif result.outcome == "offline":
            notices.append(
                await self.service.add_message(
                    conversation_id, "system", result.message, buttons=contact_buttons(self.wording)
                )
            )
        # "assigned": the reactor announces the agent when conversation.assigned arrives.
        return result, notices

    async def agent_joined(self, conversation_id: str, agent_name: str | None) -> Message | None:
        """Tell the customer, once, that a person joined (by name when the desk gave one)."""
        if agent_name:
            notice = self.wording.say("agent_joined", name=agent_name)
        else:
            notice = self.wording.say("agent_joined_unnamed")
        async with self.lock(conversation_id):
            try:
                return await self.service.add_message(conversation_id, "system", notice)
            except Conflict:
                return None  # closed in the meantime

    async def bot_is_back(self, conversation_id: str) -> list[Message]:
        """After a hand-back (or a cancel): the notice, then the bot's welcome back.

        ``action_handback`` greets the customer and resets the escalation counters. It
        runs first, so the notice says what is true: the assistant is back, or the chat
        is back with an assistant that cannot answer right now (with the person and
        message buttons).
        """
        async with self.lock(conversation_id):
            conversation = await self.service.get_conversation(conversation_id)
            if conversation.state != "bot":
                return []
            try:
                turn = self._read(await self.rasa.execute(conversation_id, "action_handback"))
                if turn.silent:
                    raise RasaSilent("action_handback showed nothing")
            except RasaUnavailable as problem:
                logger.warning("action_handback failed for %s: %s", conversation_id, problem)
                return (
                    await self._without_assistant(
                        conversation_id, problem, "back_busy", "back_unavailable"
                    )
                ).replies
            stored = [
                await self.service.add_message(
                    conversation_id, "system", self.wording.say("bot_back")
                )
            ]
            outcome = await self._apply_turn(conversation_id, turn)
            return stored + outcome.replies


def _log_orphan_failure(task: asyncio.Task[Any]) -> None:
    # Nobody awaits this result any more (the client left): an unexpected error must
    # still show up somewhere. The service's refusals are answers, not failures.
    if task.cancelled():
        return
    error = task.exception()
    if error is not None and not isinstance(error, ServiceError):
        logger.error("a customer operation failed after its client left", exc_info=error)
