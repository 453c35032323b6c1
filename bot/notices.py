"""What the customer is told when the assistant cannot answer, and the widget buttons
that go with it (one place for the wording)."""

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
BUSY_AT_START = (
    "Hi! This is the Larkspur & Co. chat. Our automated assistant (a bot) is very busy "
    "right now: please write again in a moment, or talk to a person from our team or "
    "leave us a message."
)
BUSY = (
    "The assistant is very busy right now. Your message is saved: please send it again "
    "in a moment, or talk to a person."
)
BOT_BACK = "The assistant is back."
BACK_UNAVAILABLE = (
    "This chat is back with our automated assistant (a bot), but it is unavailable right "
    "now. You can talk to a person from our team or leave us a message."
)
BACK_BUSY = (
    "This chat is back with our automated assistant (a bot), but it is very busy right "
    "now: please write again in a moment, or talk to a person from our team."
)
BUTTON_REQUEST_SUMMARY = 'The customer pressed "Talk to a person".'
OUTAGE_REQUEST_SUMMARY = "The customer asked for a person while the assistant was unavailable."
MISSED = (
    'Sorry, the automated assistant missed your message "{text}" (our chat service '
    "restarted). Please send it again, or talk to a person from our team or leave us "
    "a message."
)
QUOTE_CHARS = 80


def missed_notice(text: str) -> str:
    """The notice for a message the assistant never answered, quoting it (shortened)."""
    quote = " ".join(text.split())
    if len(quote) > QUOTE_CHARS:
        quote = quote[: QUOTE_CHARS - 1].rstrip() + "…"
    return MISSED.format(text=quote)


#: Rasa's intent for "I want a person" (data/nlu.yml).
HUMAN_REQUEST_INTENT = "human_request"
