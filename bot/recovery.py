"""After a restart: deliver what the assistant answered while the web app was down.

When the web app stops while Rasa is thinking, Rasa's tracker gets the answer and our
database does not, and the customer would find their question unanswered for good. At
start-up, every conversation still with the bot whose last word is the customer's (of
the last day: a customer's token lasts that long by default) gets
the answer from Rasa's tracker when Rasa has it, or else an honest notice that the
assistant missed the message (with the person and message buttons).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Mapping, Sequence

from handoff.service import Conflict, Message, NotFound

from .gateway import Gateway
from .notices import missed_notice
from .rasa_client import RasaUnavailable
from .router import BotTurn, rasa_safe_text, read_replies

logger = logging.getLogger(__name__)

#: Rasa stores a turn when it has finished it, so a message it is still working on is
#: not in the tracker yet: look again for this long before saying it was missed. (Rasa
#: drops a message whose sender hung up, so a long wait rarely finds more.)
ANSWER_WAIT_SECONDS = 5.0
#: How long to wait for a Rasa that does not answer at all (starting: about 30 s).
RASA_WAIT_SECONDS = 60.0
POLL_SECONDS = 0.5
#: Rasa's timestamps and ours come from the same clock; this allows for rounding.
CLOCK_SLACK_SECONDS = 1.0


def answer_in_tracker(
    events: Sequence[Mapping[str, Any]], text: str, sent_at: float, choose: str
) -> BotTurn | None:
    """The bot's turn after the customer's ``text`` in Rasa's tracker events.

    Only the tracker's last customer message counts, and only if it is ``text`` and
    arrived at or after ``sent_at`` (a UNIX time): else Rasa never got this message (or
    has not finished it yet) and the result is None. The turn may be silent (a failed
    custom action). ``choose`` heads buttons sent without text (see ``read_replies``).
    """
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.get("event") != "user":
            continue
        stamp = event.get("timestamp")
        if (
            event.get("text") != rasa_safe_text(text)
            or not isinstance(stamp, (int, float))
            or stamp < sent_at - CLOCK_SLACK_SECONDS
        ):
            return None
        replies: list[dict[str, Any]] = [
            {**(later.get("data") or {}), "text": later.get("text")}
            for later in events[index + 1 :]
            if later.get("event") == "bot"
        ]
        return read_replies(replies, choose)
    return None


class Recovery:
    """Finds the unanswered customer messages once, at start-up, and settles each."""

    def __init__(
        self,
        gateway: Gateway,
        wait_seconds: float = ANSWER_WAIT_SECONDS,
        unreachable_seconds: float = RASA_WAIT_SECONDS,
        grace_seconds: float = 0.0,
    ) -> None:
        self.gateway = gateway
        self.wait_seconds = wait_seconds
        self.unreachable_seconds = unreachable_seconds
        #: With several web workers, a message younger than this may be in another
        #: worker's hands right now (longer than any worker waits for Rasa): left alone.
        self.grace_seconds = grace_seconds

    async def find(self) -> list[Message]:
        """The customer messages the last run left unanswered (a quick query)."""
        try:
            found = await self.gateway.service.unanswered_customer_messages(
                min_age_seconds=self.grace_seconds
            )
        except Exception:  # a start-up chore must not take the web app down
            logger.exception("could not look for unanswered customer messages")
            return []
        if found:
            logger.info(
                "%d customer messages were left unanswered by the last run: settling them",
                len(found),
            )
        return found

    async def find_and_settle(self) -> None:
        """After the grace period, find and settle (the background task of a worker
        that shares its database with others)."""
        await asyncio.sleep(self.grace_seconds)
        found = await self.find()
        if found:
            await self.settle(found)

    async def settle(self, found: Sequence[Message]) -> None:
        """Settle each message (concurrently; this may wait for Rasa)."""
        results = await asyncio.gather(
            *(self._settle(message) for message in found), return_exceptions=True
        )
        for message, result in zip(found, results):
            if isinstance(result, Exception):
                logger.error(
                    "could not settle message %s in %s",
                    message.id,
                    message.conversation_id,
                    exc_info=result,
                )

    async def _settle(self, message: Message) -> None:
        cid = message.conversation_id
        # Look for the answer before taking the lock: the customer may write meanwhile.
        turn = await self._answer(message)
        async with self.gateway.lock(cid):
            try:
                conversation = await self.gateway.service.get_conversation(cid)
                latest = await self.gateway.service.messages_since(cid, message.id - 1, 2)
            except NotFound:
                return
            if conversation.state != "bot":
                return  # a person handles it and sees the message
            if len(latest) > 1 and latest[1].author in ("bot", "system"):
                return  # answered meanwhile (by another web worker)
            try:
                if [m.id for m in latest] == [message.id] and turn is not None and not turn.silent:
                    logger.info("delivering Rasa's answer to message %s in %s", message.id, cid)
                    await self.gateway.store_turn(cid, turn)
                else:
                    # Missed, or the customer wrote again meanwhile (a late answer would
                    # then read as the answer to the newer message): say which one.
                    logger.info("telling %s that the assistant missed message %s", cid, message.id)
                    await self.gateway.notice(
                        cid, missed_notice(self.gateway.wording, message.text)
                    )
            except Conflict:
                pass  # closed meanwhile

    async def _answer(self, message: Message) -> BotTurn | None:
        # Rasa may be starting too (the whole stack restarted): wait for it longer than
        # for the answer itself, which, once Rasa answers, is there or nearly so.
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.unreachable_seconds
        sent_at = message.created_at.timestamp()
        while True:
            try:
                events = await self.gateway.rasa.tracker_events(message.conversation_id)
                turn = answer_in_tracker(
                    events, message.text, sent_at, self.gateway.wording.say("choose")
                )
                if turn is not None:
                    return turn
                give_up = min(give_up, loop.time() + self.wait_seconds)
            except RasaUnavailable as problem:
                logger.debug("tracker of %s not readable yet: %s", message.conversation_id, problem)
            if loop.time() >= give_up:
                return None
            await asyncio.sleep(POLL_SECONDS)
