"""The FAQ gate: answer only a confident, unambiguous FAQ choice."""

from actions.faq_decision import ANSWER, CLARIFY, decide
from actions.thresholds import FaqThresholds
from tests.helpers import parse

T = FaqThresholds(
    min_answer_confidence=0.5,
    min_margin=0.2,
    min_intent_confidence=0.6,
    max_suggestions=3,
    min_suggestion_confidence=0.1,
    min_suggestion_intent_confidence=0.2,
)


def test_confident_and_clear_answer_is_given():
    decision = decide(parse("refund?", faq=[("refund_timing", 0.9), ("refund_missing", 0.05)]), T)
    assert decision.outcome == ANSWER
    assert decision.key == "refund_timing"


def test_high_intent_confidence_alone_is_not_enough():
    # The FallbackClassifier would let this through (faq at 0.99), the answer is a guess.
    data = parse("hmm", confidence=0.99, faq=[("invoice", 0.3), ("promo_code", 0.25)])
    decision = decide(data, T)
    assert decision.outcome == CLARIFY
    assert decision.reason == "low_answer_confidence"


def test_two_answers_too_close_to_call_are_offered_not_guessed():
    data = parse("money", faq=[("refund_timing", 0.55), ("refund_missing", 0.4), ("invoice", 0.05)])
    decision = decide(data, T)
    assert decision.outcome == CLARIFY
    assert decision.reason == "too_close"
    assert [c.key for c in decision.candidates] == ["refund_timing", "refund_missing"]


def test_low_intent_confidence_clarifies():
    data = parse("x", confidence=0.45, faq=[("invoice", 0.95)], others=[("out_of_scope", 0.4)])
    assert decide(data, T).reason == "low_intent_confidence"


def test_nlu_fallback_offers_suggestions_only_when_the_message_looks_like_a_question():
    faq_like = parse(
        "refnd", intent="nlu_fallback", confidence=0.4,
        faq=[("refund_timing", 0.6), ("refund_missing", 0.3)], others=[("faq", 0.35)],
    )
    unrelated = parse(
        "weather?", intent="nlu_fallback", confidence=0.4,
        faq=[("shipping_times", 0.6)], others=[("out_of_scope", 0.3), ("faq", 0.05)],
    )
    assert decide(faq_like, T).reason == "nlu_fallback"
    assert [c.key for c in decide(faq_like, T).candidates] == ["refund_timing", "refund_missing"]
    assert decide(unrelated, T).candidates == ()


def test_suggestions_are_capped_and_drop_hopeless_candidates():
    data = parse(
        "?", confidence=0.9,
        faq=[("a", 0.3), ("b", 0.25), ("c", 0.2), ("d", 0.15), ("e", 0.05)],
    )
    assert [c.key for c in decide(data, T).candidates] == ["a", "b", "c"]


def test_no_ranking_clarifies_without_suggestions():
    decision = decide(parse("?"), T)
    assert decision.outcome == CLARIFY
    assert decision.candidates == ()
