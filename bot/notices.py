"""The widget buttons that go with the notices of the assistant's absence, the summaries
an agent sees for requests made without the assistant, and the "missed" notice's quote.

The notices' wording is the ``messages`` section of ``shop.yml`` (``handoff.messages``).
"""

from __future__ import annotations

from handoff.messages import Messages

#: Widget buttons that run a widget action instead of sending their title as text.
TALK_TO_PERSON = {"title": "Talk to a person", "action": "handoff"}
LEAVE_MESSAGE = {"title": "Leave a message", "action": "contact"}
LEAVE_CONTACT = {"title": "Leave my contact details", "action": "contact"}

# Summaries for the agent (the customer never sees them).
BUTTON_REQUEST_SUMMARY = 'The customer pressed "Talk to a person".'
OUTAGE_REQUEST_SUMMARY = "The customer asked for a person while the assistant was unavailable."
QUOTE_CHARS = 80


def missed_notice(wording: Messages, text: str) -> str:
    """The notice for a message the assistant never answered, quoting it (shortened)."""
    quote = " ".join(text.split())
    if len(quote) > QUOTE_CHARS:
        quote = quote[: QUOTE_CHARS - 1].rstrip() + "…"
    return wording.say("missed", text=quote)


#: Rasa's intent for "I want a person" (data/nlu.yml).
HUMAN_REQUEST_INTENT = "human_request"
