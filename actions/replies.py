"""Replies to "yes"/"no" and to what the assistant cannot help with, mood included."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.escalation import (
    LOW_CONFIDENCE,
    UNHELPFUL_ANSWER,
    Assessment,
    after_failure,
    after_unhelpful,
    feedback_record,
)
from actions.handoff import HUMAN_BUTTON, SUGGESTIONS_SLOT, MoodAwareAction, hand_off


class ActionFeedback(MoodAwareAction):
    """Yes or no: the answer to "did that help?", or a plain yes/no out of context."""

    def name(self) -> str:
        return "action_feedback"

    async def respond(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        assessment: Assessment,
    ) -> list[EventType]:
        state = assessment.state
        if tracker.get_slot(SUGGESTIONS_SLOT) and not state.feedback_pending:
            # "None of these" to the suggestions: the assistant failed to understand again.
            state, escalate = after_failure(state)
            if escalate:
                return hand_off(dispatcher, tracker, LOW_CONFIDENCE, state, assessment.message)
            dispatcher.utter_message(response="utter_clarify_no_suggestion", buttons=[HUMAN_BUTTON])
            return state.events() + [SlotSet(SUGGESTIONS_SLOT, None)]
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
            return events + hand_off(
                dispatcher, tracker, UNHELPFUL_ANSWER, state, assessment.message
            )
        dispatcher.utter_message(response="utter_sorry_unhelpful", buttons=[HUMAN_BUTTON])
        return events + state.events()


class ActionDecline(MoodAwareAction):
    """Something the assistant does not cover: decline honestly, or bring in a person
    when the customer is upset."""

    def name(self) -> str:
        return "action_decline"

    async def respond(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        assessment: Assessment,
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_out_of_scope")
        return replace(assessment.state, feedback_pending=None).events()
