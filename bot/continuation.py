"""When the customer left: an agent's reply goes by e-mail.

An agent may answer after the customer closed the page. A short while after an agent's
message (``BOT_EMAIL_AFTER``, so a reload or a flaky connection does not count as
leaving), if no widget of that chat is connected and the customer left an e-mail address
in the chat, the agent's unsent replies go to that address with the last messages quoted,
and the chat records that they did (a system message, shown on both sides). The address
rule is the transcript's: only what the customer wrote in this chat, never anyone else.
"""

from __future__ import annotations

import asyncio
import logging

from handoff.events import MESSAGE_CREATED, EventBus, Subscription
from handoff.messages import Messages
from handoff.service import HandoffService, Message

from .mailer import (
    MailError,
    addresses_in,
    author_label,
    build_email,
    format_transcript,
    send_email,
)
from .settings import BotSettings
from .widgets import ConnectedWidgets

logger = logging.getLogger(__name__)
QUOTED_MESSAGES = 8
# Two workers may check one chat at once: the loser of the claim reads again, this often.
CLAIM_TRIES = 3


def continuation_text(replies: list[Message], earlier: list[Message], wording: Messages) -> str:
    """The e-mail: the new replies first, then the chat so far, quoted (``shop.yml``
    wording)."""
    answers = "\n\n".join(
        f"{author_label(wording, m.author, m.agent_name)}:\n{m.text}" for m in replies
    )
    quoted = "\n".join("> " + line for line in format_transcript(earlier, wording).splitlines())
    return (
        f"{wording.say('continuation_opening')}\n\n{answers}\n\n"
        f"{wording.say('continuation_how_to_continue')}\n\n"
        f"{wording.say('continuation_quote_heading')}\n\n{quoted}\n"
    )


class EmailContinuation:
    """Subscribe early (``subscribe``), then ``run`` as a background task."""

    def __init__(
        self,
        bus: EventBus,
        service: HandoffService,
        settings: BotSettings,
        widgets: ConnectedWidgets,
    ) -> None:
        self.bus = bus
        self.service = service
        self.settings = settings
        self.widgets = widgets  # open widget sockets on any worker (bot/ws.py keeps them)
        self._sub: Subscription | None = None
        self._pending: dict[str, asyncio.Task[None]] = {}

    @property
    def enabled(self) -> bool:
        """Needs an SMTP server and a positive delay."""
        return self.settings.smtp_host is not None and self.settings.email_after_seconds > 0

    def subscribe(self) -> None:
        """Start collecting agent messages (before the server accepts requests)."""
        if self._sub is None and self.enabled:
            # local_only: with several web workers, the worker that stored the reply
            # mails it, once.
            self._sub = self.bus.subscribe(names=[MESSAGE_CREATED], local_only=True)

    async def run(self) -> None:
        """Schedule one check per conversation after each agent message."""
        if self._sub is None:
            return
        try:
            while True:
                event = await self._sub.get()
                cid = event.data.get("conversation_id")
                if event.data.get("author") != "agent" or not cid or cid in self._pending:
                    continue
                task = asyncio.ensure_future(self._later(cid))
                self._pending[cid] = task
        finally:
            self.bus.unsubscribe(self._sub)
            self._sub = None
            for task in list(self._pending.values()):
                task.cancel()
            await asyncio.gather(*self._pending.values(), return_exceptions=True)

    async def _later(self, conversation_id: str) -> None:
        try:
            await asyncio.sleep(self.settings.email_after_seconds)
            await self.check(conversation_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # one failed chat must not stop the others
            logger.exception("e-mail continuation of %s failed", conversation_id)
        finally:
            self._pending.pop(conversation_id, None)

    async def check(self, conversation_id: str) -> str | None:
        """Mail the replies the customer has not seen, if they left; the address or None."""
        for _ in range(CLAIM_TRIES):
            done, address = await self._check_once(conversation_id)
            if done:
                return address
        return None  # another worker kept moving the mark: it is mailing them

    async def _check_once(self, conversation_id: str) -> tuple[bool, str | None]:
        """(False, None) when another worker claimed these replies first: read again."""
        history = await self.service.messages_since(conversation_id)
        # The mark in the database (mailed or seen live, by any worker, before or after a
        # restart) and the customer's last message bound what is new.
        mark = await self.service.mailed_up_to(conversation_id)
        last_customer = max((m.id for m in history if m.author == "customer"), default=0)
        after = max(mark, last_customer)
        replies = [m for m in history if m.author == "agent" and m.id > after]
        if not replies:
            return True, None
        if await self.widgets.anywhere(conversation_id):
            # The customer is there and saw these live: never mail them later.
            return await self.service.move_mailed_up_to(conversation_id, mark, replies[-1].id), None
        addresses = sorted(addresses_in(await self.service.contacts_given(conversation_id)))
        if not addresses:
            return True, None
        earlier = [m for m in history if m.id < replies[0].id][-QUOTED_MESSAGES:]
        facts = self.service.wording.facts
        sender = self.settings.smtp_sender or f"{facts['shop_name']} <{facts['support_email']}>"
        wording = self.service.wording
        text = continuation_text(replies, earlier, wording)
        email = build_email(addresses[0], sender, wording.say("transcript_title"), text)
        assert self.settings.smtp_host is not None
        if not await self.service.move_mailed_up_to(conversation_id, mark, replies[-1].id):
            return False, None  # claimed by another worker meanwhile
        try:
            await send_email(self.settings.smtp_host, self.settings.smtp_port, email)
        except MailError as problem:
            # Said in the chat, so the agent knows the customer has not got it.
            await self.service.add_message(
                conversation_id,
                "system",
                wording.say("continuation_failed", address=addresses[0], problem=str(problem)),
            )
            # The next reply retries them (unless another worker moved the mark on).
            await self.service.move_mailed_up_to(conversation_id, replies[-1].id, mark)
            return True, None
        if len(replies) == 1:
            sent = wording.say("continuation_sent_one", address=addresses[0])
        else:
            sent = wording.say(
                "continuation_sent_many", count=str(len(replies)), address=addresses[0]
            )
        await self.service.add_message(conversation_id, "system", sent)
        return True, addresses[0]
