"""The escalation state of a conversation and the decisions taken on it.

Everything here is a pure function of the slots and the latest message, so the rules
are tested without a server. The actions (faq, replies, handoff) call it and turn the
result into messages and slot events.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.frustration import FrustrationDetector, FrustrationResult, get_detector
from actions.thresholds import ESCALATION, EscalationThresholds

# Slots (declared in domain.yml, none of them influences the dialogue policy).
FAILURES = "failed_turns"
UNHELPFUL = "unhelpful_answers"
LEVEL = "frustration_level"
CUES = "frustration_cues"
LAST_FAQ = "last_faq"
ANSWERS = "faq_answer_count"
FEEDBACK_PENDING = "feedback_pending"
FEEDBACK = "faq_feedback"

FRUSTRATION = "frustration"
LOW_CONFIDENCE = "low_confidence"
UNHELPFUL_ANSWER = "unhelpful_answer"
CUSTOMER_REQUEST = "customer_request"


@dataclass(frozen=True)
class EscalationState:
    """What the assistant remembers about how the conversation is going."""

    failures: int = 0
    unhelpful: int = 0
    level: float = 0.0
    cues: tuple[str, ...] = ()
    last_faq: str | None = None
    answers: int = 0
    feedback_pending: str | None = None  # the FAQ whose "did that help?" is open

    @classmethod
    def from_tracker(cls, tracker: Tracker) -> EscalationState:
        """Read the state from the tracker's slots (missing slots are zero)."""
        slot = tracker.get_slot
        return cls(
            failures=int(slot(FAILURES) or 0),
            unhelpful=int(slot(UNHELPFUL) or 0),
            level=float(slot(LEVEL) or 0.0),
            cues=tuple(slot(CUES) or ()),
            last_faq=slot(LAST_FAQ),
            answers=int(slot(ANSWERS) or 0),
            feedback_pending=slot(FEEDBACK_PENDING),
        )

    def events(self) -> list[dict[str, Any]]:
        """Slot events that store this state."""
        return [
            SlotSet(FAILURES, float(self.failures)),
            SlotSet(UNHELPFUL, float(self.unhelpful)),
            SlotSet(LEVEL, round(self.level, 3)),
            SlotSet(CUES, list(self.cues)),
            SlotSet(LAST_FAQ, self.last_faq),
            SlotSet(ANSWERS, float(self.answers)),
            SlotSet(FEEDBACK_PENDING, self.feedback_pending),
        ]


@dataclass(frozen=True)
class Assessment:
    """The frustration read from the latest message, and what it means."""

    state: EscalationState
    message: FrustrationResult
    escalate: bool = False
    upset: bool = False  # frustrated, but not (yet) enough to hand off


def assess(
    state: EscalationState,
    text: str,
    detector: FrustrationDetector | None = None,
    limits: EscalationThresholds = ESCALATION,
) -> Assessment:
    """Score the latest customer message and add it to the conversation's level."""
    result = (detector or get_detector()).score(text or "")
    level = state.level * limits.decay
    cues = list(state.cues)
    if result.score >= limits.counted_message:
        level += result.score
        cues += [c for c in result.cues if c not in cues]
    state = replace(state, level=level, cues=tuple(cues[-10:]))
    escalate = result.score >= limits.clearly_frustrated or level >= limits.conversation
    return Assessment(state, result, escalate=escalate, upset=result.is_frustrated)


def add_signal(
    state: EscalationState, amount: float, cue: str, limits: EscalationThresholds = ESCALATION
) -> tuple[EscalationState, bool]:
    """Add a conversation signal (failure again, same question, "didn't help")."""
    cues = state.cues if cue in state.cues else state.cues + (cue,)
    state = replace(state, level=state.level + amount, cues=cues[-10:])
    return state, state.level >= limits.conversation


def after_answer(
    state: EscalationState, key: str, limits: EscalationThresholds = ESCALATION
) -> tuple[EscalationState, bool]:
    """A successful answer: failures reset. Returns (state, ask whether it helped).

    Asked after the first answer and then every few answers, and after every answer
    once the customer said one did not help (then it is not nagging but listening).
    """
    answers = state.answers + 1
    ask = answers == 1 or (answers - 1) % limits.feedback_every == 0 or state.unhelpful > 0
    return (
        replace(
            state, failures=0, last_faq=key, answers=answers, feedback_pending=key if ask else None
        ),
        ask,
    )


def after_failure(
    state: EscalationState, limits: EscalationThresholds = ESCALATION
) -> tuple[EscalationState, bool]:
    """The assistant did not understand. Returns (state, hand off now)."""
    failures = state.failures + 1
    state = replace(state, failures=failures, feedback_pending=None)
    if failures >= 2:
        state, _ = add_signal(state, limits.repeated_failure, "did not understand twice in a row")
    return state, failures >= limits.max_failures


def after_unhelpful(
    state: EscalationState, limits: EscalationThresholds = ESCALATION
) -> tuple[EscalationState, bool]:
    """The customer said (or showed) that an answer did not help. Returns (state, hand off)."""
    state = replace(state, unhelpful=state.unhelpful + 1, feedback_pending=None)
    state, too_frustrated = add_signal(state, limits.unhelpful, "said an answer did not help")
    return state, too_frustrated or state.unhelpful >= limits.max_unhelpful


def reset() -> EscalationState:
    """A fresh start: after a hand-back from an agent."""
    return EscalationState()


def feedback_record(key: str | None, helpful: bool) -> SlotSet:
    """One answer to "did that help?", kept as an event in the tracker for analytics."""
    return SlotSet(FEEDBACK, {"faq": key, "helpful": helpful})
