"""The FAQ answer: given only when the assistant is sure which answer is meant.

Before answering it reads the customer's mood (a clearly upset customer gets a person,
not FAQ text), and it counts what goes wrong: a second failure to understand in a row,
or the same question asked again after its answer, brings in a person.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.content import FaqEntry, faq_catalog, fill_values
from actions.escalation import (
    LOW_CONFIDENCE,
    UNHELPFUL_ANSWER,
    Assessment,
    add_signal,
    after_answer,
    after_failure,
    after_unhelpful,
    feedback_record,
)
from actions.faq_decision import FaqDecision, decide
from actions.handoff import (
    HUMAN_BUTTON,
    SOMETHING_ELSE_BUTTON,
    SUGGESTIONS_SLOT,
    MoodAwareAction,
    hand_off,
)
from actions.thresholds import ESCALATION

FEEDBACK_BUTTONS = [{"title": "Yes", "payload": "Yes"}, {"title": "No", "payload": "No"}]


def chosen_suggestion(tracker: Tracker) -> FaqEntry | None:
    """The FAQ whose suggestion button the customer just pressed, if any.

    Buttons carry the FAQ's title as plain text (never a `/intent` payload, which a
    customer could type), so a press is recognised by matching the offered titles.
    """
    offered = tracker.get_slot(SUGGESTIONS_SLOT) or []
    text = (tracker.latest_message.get("text") or "").strip().casefold()
    catalog = faq_catalog()
    for key in offered:
        entry = catalog.get(key)
        if entry and entry.title.casefold() == text:
            return entry
    return None


async def answer(dispatcher: CollectingDispatcher, domain: dict[str, Any], key: str) -> None:
    """Utter the answer of FAQ `key`, with the shop's facts filled in."""
    response = f"utter_faq/{key}"
    dispatcher.utter_message(response=response, **await fill_values(domain, response))


def suggest(dispatcher: CollectingDispatcher, decision: FaqDecision) -> list[EventType]:
    """Ask which FAQ is meant, with the best candidates and a person as buttons."""
    catalog = faq_catalog()
    entries = [catalog[c.key] for c in decision.candidates if c.key in catalog]
    if not entries:
        dispatcher.utter_message(response="utter_clarify_no_suggestion", buttons=[HUMAN_BUTTON])
        return [SlotSet(SUGGESTIONS_SLOT, None)]
    buttons = [{"title": e.title, "payload": e.title} for e in entries]
    dispatcher.utter_message(
        response="utter_clarify", buttons=buttons + [SOMETHING_ELSE_BUTTON, HUMAN_BUTTON]
    )
    return [SlotSet(SUGGESTIONS_SLOT, [e.key for e in entries])]


async def give_answer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: dict[str, Any],
    key: str,
    assessment: Assessment,
) -> list[EventType]:
    """Answer FAQ `key`, unless it was just answered (then offer a person instead)."""
    state = assessment.state
    if key == state.last_faq:
        # The same question again: the answer did not help. Never the same text twice.
        state, _ = add_signal(state, ESCALATION.same_question, "asked the same question again")
        state, escalate = after_unhelpful(state)
        events = [feedback_record(key, False)]
        if escalate:
            return events + hand_off(
                dispatcher, tracker, UNHELPFUL_ANSWER, state, assessment.message
            )
        dispatcher.utter_message(response="utter_same_question", buttons=[HUMAN_BUTTON])
        return events + state.events() + [SlotSet(SUGGESTIONS_SLOT, None)]
    if assessment.upset:
        dispatcher.utter_message(response="utter_empathy")
    await answer(dispatcher, domain, key)
    state, ask = after_answer(state, key)
    if ask:
        dispatcher.utter_message(response="utter_ask_helpful", buttons=FEEDBACK_BUTTONS)
    return state.events() + [SlotSet(SUGGESTIONS_SLOT, None)]


class ActionAnswerFaq(MoodAwareAction):
    """Answers a confident FAQ question, clarifies once, or brings in a person."""

    def name(self) -> str:
        return "action_answer_faq"

    async def respond(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        assessment: Assessment,
    ) -> list[EventType]:
        picked = chosen_suggestion(tracker)
        if picked:
            return await give_answer(dispatcher, tracker, domain, picked.key, assessment)
        decision = decide(tracker.latest_message)
        if decision.answers and decision.key:
            return await give_answer(dispatcher, tracker, domain, decision.key, assessment)
        state, escalate = after_failure(assessment.state)
        if escalate:
            return hand_off(dispatcher, tracker, LOW_CONFIDENCE, state, assessment.message)
        return state.events() + suggest(dispatcher, decision)
