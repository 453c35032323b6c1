"""Handing the conversation to a person, and taking it back afterwards."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import replace
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.escalation import (
    CUSTOMER_REQUEST,
    FRUSTRATION,
    Assessment,
    EscalationState,
    assess,
    reset,
)
from actions.frustration import FrustrationResult
from actions.handoff_context import build_handoff_request
from actions.thresholds import ESCALATION

#: The key of the custom payload the web app looks for in the bot's replies.
HANDOFF_PAYLOAD_KEY = "handoff"
SUGGESTIONS_SLOT = "faq_suggestions"
#: Offered wherever a person may help; plain text that NLU reads as `human_request`.
HUMAN_BUTTON = {"title": "Talk to a person", "payload": "I'd like to talk to a person"}
#: "None of these suggestions": NLU reads it as `deny`.
SOMETHING_ELSE_BUTTON = {"title": "Something else", "payload": "Something else"}

# What the customer is told, by reason. Honest, and no promised time: only the web app
# knows whether anyone is online, and it says so next.
_HANDOFF_RESPONSES = {
    "customer_request": "utter_handoff",
    "frustration": "utter_handoff_frustrated",
    "low_confidence": "utter_handoff_low_confidence",
    "unhelpful_answer": "utter_handoff_unhelpful",
}


def hand_off(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    state: EscalationState,
    message: FrustrationResult | None = None,
) -> list[EventType]:
    """Tell the customer a person is coming and hand the web app the request."""
    score = max(min(state.level, 1.0), message.score if message else 0.0)
    request = build_handoff_request(
        reason,
        tracker.events,
        frustration_score=score,
        frustration_cues=state.cues,
        sender_id=tracker.sender_id,
    )
    dispatcher.utter_message(response=_HANDOFF_RESPONSES[reason])
    dispatcher.utter_message(json_message={HANDOFF_PAYLOAD_KEY: request})
    return replace(state, feedback_pending=None).events() + [SlotSet(SUGGESTIONS_SLOT, None)]


def read_mood(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> tuple[Assessment, list[EventType] | None]:
    """Assess the latest message. A clearly upset customer is handed off at once: then
    the second item holds the events to return, and nothing else should be said."""
    assessment = assess(
        EscalationState.from_tracker(tracker), tracker.latest_message.get("text") or ""
    )
    if assessment.escalate:
        events = hand_off(dispatcher, tracker, FRUSTRATION, assessment.state, assessment.message)
        return assessment, events
    return assessment, None


class MoodAwareAction(Action, ABC):
    """An action that reads the customer's mood first: a clearly upset customer is handed
    to a person, and `respond` is not called."""

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        assessment, handed_off = read_mood(dispatcher, tracker)
        if handed_off is not None:
            return handed_off
        return await self.respond(dispatcher, tracker, domain, assessment)

    @abstractmethod
    async def respond(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        assessment: Assessment,
    ) -> list[EventType]:
        """The action's own reply, given the mood of the latest message."""


class ActionHandoff(Action):
    """The customer asked for a person (in words, or with the widget's button)."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        state = EscalationState.from_tracker(tracker)
        text = tracker.latest_message.get("text") or ""
        # Read the mood too, so the agent sees the cues. A clearly upset message is
        # escalated as frustration (NLU often reads "this is useless!!!" as a request
        # for a person); a calm or mildly annoyed request stays a customer request.
        assessment = assess(state, text) if text else None
        if assessment is None:
            return hand_off(dispatcher, tracker, CUSTOMER_REQUEST, state)
        reason = (
            FRUSTRATION
            if assessment.message.score >= ESCALATION.clearly_frustrated
            else CUSTOMER_REQUEST
        )
        return hand_off(dispatcher, tracker, reason, assessment.state, assessment.message)


class ActionHandback(Action):
    """An agent handed the chat back: greet the customer again and start afresh.

    Only the web app runs this (through Rasa's token-protected HTTP API), never a
    customer's message.
    """

    def name(self) -> str:
        return "action_handback"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_welcome_back")
        return reset().events() + [SlotSet(SUGGESTIONS_SLOT, None)]
