"""The context a human agent receives at handoff, built from the conversation so far.

The web app acts on this request: it queues the conversation and shows the agent why it
was escalated and what was already said, so the customer never has to repeat themselves.
The schema is documented in README.md ("The handoff request").
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from actions.content import faq_catalog

# Version 2 (handoff/contract.py): no transcript; the desk renders the stored messages.
SCHEMA_VERSION = 2
REASONS = ("customer_request", "low_confidence", "frustration", "unhelpful_answer")

_REASON_SENTENCES = {
    "customer_request": "The customer asked to talk to a person.",
    "low_confidence": "The assistant could not tell what the customer needs, twice in a row.",
    "frustration": "The customer seems frustrated.",
    "unhelpful_answer": "The customer said the assistant's answers did not help.",
}
_MAX_QUOTE = 200


def _session_events(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The events of the current session (after the last session start)."""
    events = list(events)
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "session_started":
            return events[index + 1 :]
    return events


def transcript(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Customer and bot messages of the current session, in order."""
    lines: list[dict[str, Any]] = []
    for event in _session_events(events):
        kind = event.get("event")
        if kind not in ("user", "bot") or not event.get("text"):
            continue
        lines.append(
            {
                "author": "customer" if kind == "user" else "bot",
                "text": event["text"],
                "time": event.get("timestamp"),
            }
        )
    return lines


def intents_seen(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each customer message with the intent (and FAQ answer) NLU saw, and confidences."""
    seen: list[dict[str, Any]] = []
    for event in _session_events(events):
        if event.get("event") != "user":
            continue
        data = event.get("parse_data") or {}
        intent = data.get("intent") or {}
        item: dict[str, Any] = {
            "text": event.get("text"),
            "name": intent.get("name"),
            "confidence": round(float(intent.get("confidence") or 0.0), 3),
        }
        response = ((data.get("response_selector") or {}).get("faq") or {}).get("response") or {}
        if intent.get("name") == "faq" and response.get("intent_response_key"):
            item["faq"] = response["intent_response_key"].split("/", 1)[-1]
            item["faq_confidence"] = round(float(response.get("confidence") or 0.0), 3)
        seen.append(item)
    return seen


def faq_answers_given(events: Iterable[Mapping[str, Any]]) -> list[str]:
    """The FAQ keys the assistant answered in this session, in order."""
    given = []
    for event in _session_events(events):
        action = (event.get("metadata") or {}).get("utter_action") or ""
        if event.get("event") == "bot" and action.startswith("utter_faq/"):
            given.append(action.split("/", 1)[1])
    return given


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_QUOTE else text[: _MAX_QUOTE - 1] + "…"


def summarise(
    reason: str,
    lines: list[dict[str, Any]],
    answers: list[str],
    cues: Iterable[str] = (),
) -> str:
    """One paragraph for the agent: why, what the customer wants, what the bot said."""
    parts = [_REASON_SENTENCES.get(reason, f"Escalated ({reason}).")]
    said = [line["text"] for line in lines if line["author"] == "customer"]
    if said:
        first = _quote(said[0])
        parts.append(f'They first wrote: "{first}".')
        if len(said) > 1:
            parts.append(f'Latest message: "{_quote(said[-1])}".')
    titles = [faq_catalog()[k].title if k in faq_catalog() else k for k in answers]
    if titles:
        parts.append("The assistant already answered: " + "; ".join(titles) + ".")
    else:
        parts.append("The assistant has not given any FAQ answer yet.")
    cues = list(cues)
    if cues:
        parts.append("Signs of frustration: " + ", ".join(cues) + ".")
    return " ".join(parts)


def build_handoff_request(
    reason: str,
    events: Iterable[Mapping[str, Any]],
    frustration_score: float = 0.0,
    frustration_cues: Iterable[str] = (),
    sender_id: str | None = None,
) -> dict[str, Any]:
    """The machine-readable handoff request the web app acts on."""
    if reason not in REASONS:
        raise ValueError(f"unknown handoff reason {reason!r}; expected one of {REASONS}")
    events = list(events)
    lines = transcript(events)
    answers = faq_answers_given(events)
    cues = list(frustration_cues)
    return {
        "version": SCHEMA_VERSION,
        "conversation_id": sender_id,
        "reason": reason,
        "summary": summarise(reason, lines, answers, cues),
        "intents": intents_seen(events),
        "frustration": {"score": round(float(frustration_score), 3), "cues": cues},
        "faq_answers": answers,
    }
