"""Whether to answer an FAQ, and with which answer: a pure function of the NLU result.

Rasa's FallbackClassifier only checks the *intent* confidence, and `faq` is near 1.0 for
anything that looks like a question. The risk is in *which* answer the ResponseSelector
picked, so an answer is given only when that choice is confident and clearly ahead of the
runner-up. `make eval` runs the same function offline to choose the thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Tuple

from actions.thresholds import FAQ, FaqThresholds

ANSWER = "answer"
CLARIFY = "clarify"


@dataclass(frozen=True)
class Candidate:
    """One possible FAQ answer and the ResponseSelector's confidence in it."""

    key: str
    confidence: float


@dataclass(frozen=True)
class FaqDecision:
    """What to do with a message routed to the FAQ action."""

    outcome: str  # ANSWER or CLARIFY
    reason: str  # why: confident, nlu_fallback, low_intent_confidence, ...
    key: Optional[str] = None  # the FAQ to answer
    candidates: Tuple[Candidate, ...] = ()  # best first, for suggestions

    @property
    def answers(self) -> bool:
        """True when an FAQ answer is given."""
        return self.outcome == ANSWER


def faq_candidates(parse_data: Mapping[str, Any]) -> List[Candidate]:
    """The ResponseSelector's ranking of FAQ answers, best first."""
    selector = (parse_data.get("response_selector") or {}).get("faq") or {}
    ranking = selector.get("ranking") or []
    candidates = []
    for item in ranking:
        full_key = item.get("intent_response_key") or ""
        if full_key.startswith("faq/"):
            candidates.append(Candidate(full_key[4:], float(item.get("confidence", 0.0))))
    return sorted(candidates, key=lambda c: c.confidence, reverse=True)


def intent_confidence(parse_data: Mapping[str, Any], name: str) -> float:
    """The NLU confidence in intent `name` (0 when it is not ranked)."""
    for item in parse_data.get("intent_ranking") or []:
        if item.get("name") == name:
            return float(item.get("confidence", 0.0))
    intent = parse_data.get("intent") or {}
    return float(intent.get("confidence", 0.0)) if intent.get("name") == name else 0.0


def decide(
    parse_data: Mapping[str, Any], thresholds: FaqThresholds = FAQ
) -> FaqDecision:
    """Answer only a confident, unambiguous FAQ; otherwise clarify with suggestions."""
    candidates = faq_candidates(parse_data)
    intent_name = (parse_data.get("intent") or {}).get("name")
    faq_confidence = intent_confidence(parse_data, "faq")
    suggestions = tuple(
        c for c in candidates if c.confidence >= thresholds.min_suggestion_confidence
    )[: thresholds.max_suggestions]
    if faq_confidence < thresholds.min_suggestion_intent_confidence:
        suggestions = ()

    def clarify(reason: str) -> FaqDecision:
        return FaqDecision(CLARIFY, reason, None, suggestions)

    if intent_name != "faq":
        return clarify("nlu_fallback" if intent_name == "nlu_fallback" else "not_faq")
    if not candidates:
        return clarify("no_answer_ranked")
    if faq_confidence < thresholds.min_intent_confidence:
        return clarify("low_intent_confidence")
    best = candidates[0]
    if best.confidence < thresholds.min_answer_confidence:
        return clarify("low_answer_confidence")
    runner_up = candidates[1].confidence if len(candidates) > 1 else 0.0
    if best.confidence - runner_up < thresholds.min_margin:
        return clarify("too_close")
    return FaqDecision(ANSWER, "confident", best.key, tuple(candidates[:1]))
