"""The FAQ answer: given only when the assistant is sure which answer is meant."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.content import FaqEntry, faq_catalog, fill_values
from actions.faq_decision import FaqDecision, decide

SUGGESTIONS_SLOT = "faq_suggestions"
HUMAN_BUTTON = {"title": "Talk to a person", "payload": "I'd like to talk to a person"}


def chosen_suggestion(tracker: Tracker) -> Optional[FaqEntry]:
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


def answer(dispatcher: CollectingDispatcher, domain: Dict[Text, Any], key: str) -> None:
    """Utter the answer of FAQ `key`, with the shop's facts filled in."""
    response = f"utter_faq/{key}"
    dispatcher.utter_message(response=response, **fill_values(domain, response))


def suggest(
    dispatcher: CollectingDispatcher, decision: FaqDecision
) -> List[EventType]:
    """Ask which FAQ is meant, with the best candidates and a person as buttons."""
    catalog = faq_catalog()
    entries = [catalog[c.key] for c in decision.candidates if c.key in catalog]
    if not entries:
        dispatcher.utter_message(
            response="utter_clarify_no_suggestion", buttons=[HUMAN_BUTTON]
        )
        return [SlotSet(SUGGESTIONS_SLOT, None)]
    buttons = [{"title": e.title, "payload": e.title} for e in entries]
    dispatcher.utter_message(response="utter_clarify", buttons=buttons + [HUMAN_BUTTON])
    return [SlotSet(SUGGESTIONS_SLOT, [e.key for e in entries])]


class ActionAnswerFaq(Action):
    """Answers a confident FAQ question, or clarifies with suggestions."""

    def name(self) -> Text:
        return "action_answer_faq"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        picked = chosen_suggestion(tracker)
        if picked:
            answer(dispatcher, domain, picked.key)
            return [SlotSet(SUGGESTIONS_SLOT, None)]
        decision = decide(tracker.latest_message)
        if decision.answers and decision.key:
            answer(dispatcher, domain, decision.key)
            return [SlotSet(SUGGESTIONS_SLOT, None)]
        return suggest(dispatcher, decision)
