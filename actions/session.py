"""Session start: every conversation opens by saying honestly that this is a bot."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted
from rasa_sdk.executor import CollectingDispatcher

from actions.content import fill_values


class ActionSessionStart(Action):
    """Starts a session with the disclosure: a bot, what it helps with, a person on request."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        response = "utter_disclosure"
        dispatcher.utter_message(response=response, **await fill_values(domain, response))
        return [SessionStarted(), ActionExecuted("action_listen")]
