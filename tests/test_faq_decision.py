"""The FAQ gate: topic first, then one confident answer within it; otherwise clarify."""

from actions.faq_decision import ANSWER, CLARIFY, decide, faq_candidates, topic_confidences
from actions.thresholds import FaqThresholds
from tests.helpers import parse

T = FaqThresholds(
    min_answer_confidence=0.3,
    min_margin=0.1,
    min_topic_confidence=0.4,
    min_intent_confidence=0.5,
    max_suggestions=3,
    min_suggestion_confidence=0.05,
    min_suggestion_intent_confidence=0.2,
    min_sibling_confidence=0.03,
)


def test_confident_and_clear_answer_is_given():
    decision = decide(parse("refund?", faq=[("refund_timing", 0.9), ("refund_missing", 0.05)]), T)
    assert decision.outcome == ANSWER
    assert decision.key == "refund_timing"


def test_high_intent_confidence_alone_is_not_enough():
    # The FallbackClassifier would let this through (faq at 0.99), the answer is a guess.
    data = parse(
        "hmm",
        confidence=0.99,
        faq=[("invoice", 0.2), ("return_start", 0.15), ("password_reset", 0.1)],
    )
    decision = decide(data, T)
    assert decision.outcome == CLARIFY
    assert decision.reason == "unclear_topic"
    assert [c.key for c in decision.candidates] == ["invoice", "return_start", "password_reset"]


def test_siblings_of_a_clear_topic_are_offered_not_guessed():
    # An extra fee on a statement: clearly a payment question, but which answer?
    data = parse(
        "fee on my statement",
        confidence=0.9,
        faq=[
            ("unknown_charge", 0.35),
            ("charged_twice", 0.3),
            ("refund_missing", 0.12),
            ("card_declined", 0.08),
            ("invoice", 0.04),
            ("return_label", 0.01),
        ],
    )
    decision = decide(data, T)
    assert decision.outcome == CLARIFY
    assert decision.reason == "which_answer_in_topic"
    # Only payment answers, best first: refund_missing is from another topic.
    assert [c.key for c in decision.candidates] == [
        "unknown_charge",
        "charged_twice",
        "card_declined",
    ]


def test_the_topic_decides_before_the_single_best_answer():
    # The best single answer is a returns one, but most of the probability is on payment:
    # the answer comes from payment, where the customer's need is.
    data = parse(
        "x",
        confidence=0.95,
        faq=[
            ("return_start", 0.25),
            ("charged_twice", 0.45),
            ("unknown_charge", 0.1),
            ("card_declined", 0.1),
        ],
    )
    topics = topic_confidences(faq_candidates(data))
    assert round(topics["payment"], 2) == 0.65 and round(topics["returns_refund"], 2) == 0.25
    decision = decide(data, T)
    assert (decision.outcome, decision.key) == (ANSWER, "charged_twice")


def test_a_close_call_between_topics_is_not_answered():
    data = parse("x", confidence=0.9, faq=[("return_start", 0.3), ("cancel_order", 0.3)])
    assert decide(data, T).reason == "unclear_topic"


def test_low_intent_confidence_clarifies():
    data = parse("x", confidence=0.45, faq=[("invoice", 0.45)], others=[("out_of_scope", 0.4)])
    assert decide(data, T).reason == "low_intent_confidence"


def test_nlu_fallback_offers_suggestions_only_when_the_message_looks_like_a_question():
    faq_like = parse(
        "refnd",
        intent="nlu_fallback",
        confidence=0.4,
        faq=[("refund_timing", 0.2), ("refund_missing", 0.1)],
        others=[("faq", 0.35)],
    )
    unrelated = parse(
        "weather?",
        intent="nlu_fallback",
        confidence=0.4,
        faq=[("shipping_times", 0.1)],
        others=[("out_of_scope", 0.3), ("faq", 0.12)],
    )
    assert decide(faq_like, T).reason == "nlu_fallback"
    assert [c.key for c in decide(faq_like, T).candidates] == ["refund_timing", "refund_missing"]
    assert decide(unrelated, T).candidates == ()


def test_suggestions_are_capped_and_drop_hopeless_candidates():
    data = parse(
        "?",
        confidence=0.9,
        faq=[
            ("invoice", 0.12),
            ("exchange", 0.1),
            ("order_status", 0.08),
            ("membership", 0.07),
            ("password_reset", 0.02),
        ],
    )
    assert [c.key for c in decide(data, T).candidates] == ["invoice", "exchange", "order_status"]


def test_no_ranking_clarifies_without_suggestions():
    decision = decide(parse("?"), T)
    assert decision.outcome == CLARIFY
    assert decision.candidates == ()
