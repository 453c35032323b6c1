"""`make eval`'s scoring: outcomes read from events, figures, bad CSV files."""

import pytest

from tests.helpers import bot_event, parse, user_event
from tools.evaluate import OTHER_REPLY, Row, classify, read_rows, score
from tools.tune_thresholds import replay


def handoff_event():
    return {"event": "bot", "text": None, "data": {"custom": {"handoff": {"reason": "customer_request"}}},
            "metadata": {}}


def test_outcomes_are_read_from_the_bot_events():
    cases = [
        ([bot_event("...", "utter_disclosure"), bot_event("...", "utter_faq/invoice")], "answer"),
        ([bot_event("...", "utter_clarify")], "clarify"),
        ([bot_event("...", "utter_out_of_scope")], "decline"),
        ([bot_event("...", "utter_handoff"), handoff_event()], "handoff"),
        ([bot_event("...", "utter_greet")], OTHER_REPLY),
    ]
    for events, expected in cases:
        row = Row("text", "payment")
        classify(row, [user_event(parse("text", faq=[("invoice", 0.9)]))] + events)
        assert row.outcome == expected
    row = Row("text", "payment")
    classify(row, [user_event(parse("text", faq=[("invoice", 0.9)])), bot_event("...", "utter_faq/invoice")])
    assert (row.faq, row.answered_topic, row.correct) == ("invoice", "payment", True)
    assert row.faq_ranking[0]["intent_response_key"] == "faq/invoice"


def test_scores():
    rows = [
        Row("a", "payment", outcome="answer", answered_topic="payment"),
        Row("b", "payment", outcome="clarify"),
        Row("c", "human_request", outcome="handoff"),
        Row("d", "out_of_scope", outcome="answer", answered_topic="shipping_delivery"),
        Row("e", "out_of_scope", outcome="decline"),
    ]
    scores = score(rows)
    assert scores.in_scope_accuracy == pytest.approx(2 / 3)
    assert scores.oos_wrong_answer_rate == 0.5
    assert scores.human_request_recall == 1.0
    assert scores.line() == (
        "in_scope_accuracy=0.67 oos_wrong_answer_rate=0.50 human_request_recall=1.00 clarify_rate=0.20"
    )


def test_a_csv_without_the_columns_is_refused_with_the_file_name(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence,label\nhello,greet\n")
    with pytest.raises(SystemExit, match="bad.csv: needs the columns text,topic"):
        read_rows(bad)
    with pytest.raises(SystemExit, match="no such file"):
        read_rows(tmp_path / "missing.csv")


def test_replay_applies_the_faq_decision_to_stored_rows():
    from actions.thresholds import FaqThresholds

    row = {"text": "x", "topic": "payment", "outcome": "answer", "answered_topic": "payment",
           "intent": "faq", "intent_confidence": 0.99,
           "ranking": [{"name": "faq", "confidence": 0.99}],
           "faq_ranking": [{"intent_response_key": "faq/invoice", "confidence": 0.5},
                           {"intent_response_key": "faq/promo_code", "confidence": 0.3}]}
    loose = FaqThresholds(min_answer_confidence=0.4, min_margin=0.1, min_intent_confidence=0.5)
    strict = FaqThresholds(min_answer_confidence=0.6, min_margin=0.1, min_intent_confidence=0.5)
    assert replay([row], loose) == (1.0, 0.0)
    assert replay([row], strict) == (0.0, 0.0)
