"""Whether to answer an FAQ, and with which answer: a pure function of the NLU result.

Rasa's FallbackClassifier only checks the *intent* confidence. The risk is in *which*
answer is given, so the decision reads the FAQ ranking (per-answer probabilities from
tools/nlu/shop_classifier.py): first the topic (the sum over its answers), then the answer
within it, which must be confident and clearly ahead of its siblings. `make eval` and
`python -m tools.evaluation.tune_thresholds` replay the same function offline to choose thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from actions.content import faq_catalog
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
    key: str | None = None  # the FAQ to answer
    candidates: tuple[Candidate, ...] = ()  # best first, for suggestions

    @property
    def answers(self) -> bool:
        """True when an FAQ answer is given."""
        return self.outcome == ANSWER


def faq_candidates(parse_data: Mapping[str, Any]) -> list[Candidate]:
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


def topic_of(key: str) -> str:
    """The FAQ's topic in topics.yml (an unknown key is a topic of its own)."""
    entry = faq_catalog().get(key)
    return entry.topic if entry else key


def topic_confidences(candidates: list[Candidate]) -> dict[str, float]:
    """The confidence in each topic: the sum over its FAQ answers."""
    topics: dict[str, float] = {}
    for candidate in candidates:
        topic = topic_of(candidate.key)
        topics[topic] = topics.get(topic, 0.0) + candidate.confidence
    return topics


def decide(parse_data: Mapping[str, Any], thresholds: FaqThresholds = FAQ) -> FaqDecision:
    """Topic first, then the answer within it; clarify when either is unclear.

    Several sibling answers of one topic often share the confidence on unfamiliar
    wording (a fee on a statement: unknown charge or charged twice?). When the topic is
    clear but the answer is not, the siblings are offered as suggestions; when neither
    is clear, the best answers overall are.
    """
    candidates = faq_candidates(parse_data)
    intent_name = (parse_data.get("intent") or {}).get("name")
    faq_confidence = intent_confidence(parse_data, "faq")
    suggestions = tuple(
        c for c in candidates if c.confidence >= thresholds.min_suggestion_confidence
    )[: thresholds.max_suggestions]
    if faq_confidence < thresholds.min_suggestion_intent_confidence:
        suggestions = ()

    def clarify(reason: str, offered: tuple[Candidate, ...] = suggestions) -> FaqDecision:
        return FaqDecision(CLARIFY, reason, None, offered)

    if intent_name != "faq":
        # nlu_fallback (unsure what it is), vague_request ("I have a problem"), or another
        # intent routed here by the dialogue policy.
        return clarify(
            intent_name if intent_name in ("nlu_fallback", "vague_request") else "not_faq"
        )
    if not candidates:
        return clarify("no_answer_ranked")
    if faq_confidence < thresholds.min_intent_confidence:
        return clarify("low_intent_confidence")
    topics = topic_confidences(candidates)
    topic = max(topics, key=lambda name: topics[name])
    siblings = [c for c in candidates if topic_of(c.key) == topic]
    best = siblings[0]
    if topics[topic] < thresholds.min_topic_confidence:
        return clarify("unclear_topic")
    runner_up = siblings[1].confidence if len(siblings) > 1 else 0.0
    if best.confidence >= thresholds.min_answer_confidence and (
        best.confidence - runner_up >= thresholds.min_margin
    ):
        return FaqDecision(ANSWER, "confident", best.key, (best,))
    offered = tuple(c for c in siblings if c.confidence >= thresholds.min_sibling_confidence)[
        : thresholds.max_suggestions
    ]
    return clarify("which_answer_in_topic", offered or (best,))
