"""The handoff action: tells the customer a person is coming and hands the web app a request."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff_context import build_handoff_request

#: The key of the custom payload the web app looks for in the bot's replies.
HANDOFF_PAYLOAD_KEY = "handoff"


class ActionHandoff(Action):
    """Hands the conversation to a person, with the reason and the whole context."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        request = build_handoff_request(
            "customer_request", tracker.events, sender_id=tracker.sender_id
        )
        # Honest, and no promised time: only the web app knows whether anyone is online.
        dispatcher.utter_message(response="utter_handoff")
        dispatcher.utter_message(json_message={HANDOFF_PAYLOAD_KEY: request})
        return []
