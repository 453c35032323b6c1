"""Builders shared by the tests: NLU results and trackers made by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import yaml
from rasa_sdk import Tracker

ROOT = Path(__file__).resolve().parent.parent


def domain() -> dict[str, Any]:
    """The project's domain.yml as the action server receives it."""
    return yaml.safe_load((ROOT / "domain.yml").read_text())


def parse(
    text: str,
    intent: str = "faq",
    confidence: float = 0.98,
    faq: Sequence[tuple[str, float]] = (),
    others: Sequence[tuple[str, float]] = (),
) -> dict[str, Any]:
    """An NLU result: the intent, its ranking, and the ResponseSelector's FAQ ranking."""
    ranking = [{"name": intent, "confidence": confidence}] + [
        {"name": name, "confidence": conf} for name, conf in others
    ]
    result: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": ranking,
        "entities": [],
    }
    if faq:
        ranked = [{"intent_response_key": f"faq/{key}", "confidence": conf} for key, conf in faq]
        result["response_selector"] = {
            "all_retrieval_intents": ["faq"],
            "faq": {
                "response": {
                    "intent_response_key": ranked[0]["intent_response_key"],
                    "confidence": ranked[0]["confidence"],
                    "utter_action": f"utter_{ranked[0]['intent_response_key']}",
                },
                "ranking": ranked,
            },
        }
    return result


def user_event(parse_data: dict[str, Any]) -> dict[str, Any]:
    """A `user` event as Rasa stores it."""
    return {"event": "user", "text": parse_data["text"], "parse_data": parse_data, "timestamp": 1.0}


def bot_event(text: str, utter_action: str | None = None) -> dict[str, Any]:
    """A `bot` event as Rasa stores it."""
    metadata = {"utter_action": utter_action} if utter_action else {}
    return {"event": "bot", "text": text, "data": {}, "metadata": metadata, "timestamp": 1.0}


def tracker(
    latest: dict[str, Any],
    history: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    sender_id: str = "test-conversation",
) -> Tracker:
    """A tracker whose latest message is `latest`, after `history`."""
    events = [{"event": "session_started"}] + list(history or []) + [user_event(latest)]
    return Tracker(
        sender_id=sender_id,
        slots=dict(slots or {}),
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
