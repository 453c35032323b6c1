"""Replies to "yes"/"no" and to what the assistant cannot help with, mood included."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.escalation import (
    FRUSTRATION,
    UNHELPFUL_ANSWER,
    EscalationState,
    after_unhelpful,
    assess,
    feedback_record,
)
from actions.handoff import HUMAN_BUTTON, hand_off


class ActionFeedback(Action):
    """Yes or no: the answer to "did that help?", or a plain yes/no out of context."""

    def name(self) -> Text:
        return "action_feedback"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        assessment = assess(
            EscalationState.from_tracker(tracker), tracker.latest_message.get("text") or ""
        )
        state = assessment.state
        if assessment.escalate:
            return hand_off(dispatcher, tracker, FRUSTRATION, state, assessment.message)
        key = state.feedback_pending
        if not key:
            dispatcher.utter_message(response="utter_how_can_i_help")
            return state.events()
        helpful = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        events = [feedback_record(key, helpful)]
        if helpful:
            dispatcher.utter_message(response="utter_glad_it_helped")
            return events + replace(state, feedback_pending=None).events()
        state, escalate = after_unhelpful(state)
        if escalate:
            return events + hand_off(dispatcher, tracker, UNHELPFUL_ANSWER, state, assessment.message)
        dispatcher.utter_message(response="utter_sorry_unhelpful", buttons=[HUMAN_BUTTON])
        return events + state.events()


class ActionDecline(Action):
    """Something the assistant does not cover: decline honestly, or bring in a person
    when the customer is upset."""

    def name(self) -> Text:
        return "action_decline"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        assessment = assess(
            EscalationState.from_tracker(tracker), tracker.latest_message.get("text") or ""
        )
        if assessment.escalate:
            return hand_off(dispatcher, tracker, FRUSTRATION, assessment.state, assessment.message)
        dispatcher.utter_message(response="utter_out_of_scope")
        return replace(assessment.state, feedback_pending=None).events()
