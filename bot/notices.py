"""The notices the customer side adds to a chat, their widget buttons, the summaries an
agent sees for requests made without the assistant, and the "missed" notice's quote.

Every word the customer reads comes from the ``messages`` section of ``shop.yml``
(``handoff.messages``); this module only picks the message and fills its values.
"""

from __future__ import annotations

from handoff.contract import ButtonAction
from handoff.messages import Messages

# Summaries for the agent (the customer never sees them).
OUTAGE_REQUEST_SUMMARY = "The customer asked for a person while the assistant was unavailable."
QUOTE_CHARS = 80


def _action_button(wording: Messages, key: str, action: ButtonAction) -> dict[str, str]:
    """A widget button that runs a widget action instead of sending its title as text."""
    return {"title": wording.say(key), "action": action.value}


def person_or_message_buttons(wording: Messages) -> list[dict[str, str]]:
    """Under a notice that the assistant cannot help: ask for a person, or leave a message."""
    return [
        _action_button(wording, "button_talk_to_person", ButtonAction.HANDOFF),
        _action_button(wording, "button_leave_message", ButtonAction.CONTACT),
    ]


def contact_buttons(wording: Messages) -> list[dict[str, str]]:
    """Under an offline notice: leave contact details."""
    return [_action_button(wording, "button_leave_contact", ButtonAction.CONTACT)]


def button_request_summary(wording: Messages) -> str:
    """The agent's summary of a request made with the "Talk to a person" button."""
    return f'The customer pressed "{wording.say("button_talk_to_person")}".'


def wait_phrase(wording: Messages, seconds: int | None) -> str:
    """An honest, rounded estimate ("about 4 minutes"), or "" when unknown."""
    if seconds is None:
        return ""
    minutes = max(1, round(seconds / 60))
    if minutes == 1:
        return wording.say("wait_one_minute")
    return wording.say("wait_minutes", minutes=str(minutes))


def queued_notice(wording: Messages, position: int | None, wait_seconds: int | None) -> str:
    """The notice a customer gets when their chat joins the queue (position 1 is "next";
    an unknown position is said as "next" too: nobody is known to be ahead)."""
    wait = wait_phrase(wording, wait_seconds)
    if position is None or position <= 1:
        return wording.say("queued_next_wait", wait=wait) if wait else wording.say("queued_next")
    if wait:
        return wording.say("queued_wait", position=str(position), wait=wait)
    return wording.say("queued", position=str(position))


def missed_notice(wording: Messages, text: str) -> str:
    """The notice for a message the assistant never answered, quoting it (shortened)."""
    quote = " ".join(text.split())
    if len(quote) > QUOTE_CHARS:
        quote = quote[: QUOTE_CHARS - 1].rstrip() + "…"
    return wording.say("missed", text=quote)


#: Rasa's intent for "I want a person" (data/nlu.yml).
HUMAN_REQUEST_INTENT = "human_request"
