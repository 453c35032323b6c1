"""`make eval`'s scoring: outcomes read from events, figures, bad CSV files."""

import pytest

from tests.helpers import bot_event, parse, user_event
from tools.evaluation.evaluate import OTHER_REPLY, Row, classify, per_topic_table, read_rows, score
from tools.evaluation.tune_thresholds import replay


def handoff_event():
    return {
        "event": "bot",
        "text": None,
        "data": {"custom": {"handoff": {"reason": "customer_request"}}},
        "metadata": {},
    }


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
    classify(
        row,
        [user_event(parse("text", faq=[("invoice", 0.9)])), bot_event("...", "utter_faq/invoice")],
    )
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
        "in_scope_accuracy=0.67 oos_wrong_answer_rate=0.50 "
        "human_request_recall=1.00 clarify_rate=0.20"
        " one_click_rate=0.67"
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

    row = {
        "text": "x",
        "topic": "payment",
        "outcome": "answer",
        "answered_topic": "payment",
        "intent": "faq",
        "intent_confidence": 0.99,
        "ranking": [{"name": "faq", "confidence": 0.99}],
        "faq_ranking": [
            {"intent_response_key": "faq/invoice", "confidence": 0.5},
            {"intent_response_key": "faq/promo_code", "confidence": 0.3},
        ],
    }
    loose = FaqThresholds(min_answer_confidence=0.4, min_margin=0.1, min_intent_confidence=0.5)
    strict = FaqThresholds(min_answer_confidence=0.6, min_margin=0.1, min_intent_confidence=0.5)
    # (accuracy, out-of-scope wrong answers, one click): under the strict setting the
    # assistant asks instead, and the right answer is among the siblings it offers.
    assert replay([row], loose) == (1.0, 0.0, 1.0)
    assert replay([row], strict) == (0.0, 0.0, 1.0)
    oos = dict(row, topic="out_of_scope", text="y")
    assert replay([row, oos], loose) == (1.0, 1.0, 1.0)


def slot_event(name, value):
    return {"event": "slot", "name": name, "value": value, "timestamp": 1.0}


def test_a_small_csv_with_accept_and_source_columns_is_scored_per_source(tmp_path):
    data = tmp_path / "small.csv"
    data.write_text(
        "text,topic,source,accept\n"
        "cancel what I bought yesterday,returns_refund,shop,returns_refund|order_change\n"
        "an extra fee on my statement,payment,shop,payment\n"
        "my password is refused,login_password,crowd,\n"
        "what shoe size am I,out_of_scope,crowd,out_of_scope\n"
    )
    rows = read_rows(data)
    assert [r.right_topics for r in rows] == [
        ["returns_refund", "order_change"],
        ["payment"],
        ["login_password"],
        ["out_of_scope"],
    ]
    assert [r.source for r in rows] == ["shop", "shop", "crowd", "crowd"]
    cancel, fee, password, shoes = rows
    # Answered from the second accepted topic: right.
    classify(
        cancel,
        [
            user_event(parse(cancel.text, faq=[("cancel_order", 0.8)])),
            bot_event("...", "utter_faq/cancel_order"),
        ],
    )
    # Clarified, and the right answer is one of the buttons: one click, not correct.
    classify(
        fee,
        [
            user_event(parse(fee.text, faq=[("invoice", 0.3), ("unknown_charge", 0.3)])),
            bot_event("...", "utter_clarify"),
            slot_event("faq_suggestions", ["invoice", "unknown_charge"]),
        ],
    )
    # Clarified with suggestions of another topic only: neither.
    classify(
        password,
        [
            user_event(parse(password.text, faq=[("signup_problem", 0.3)])),
            bot_event("...", "utter_clarify"),
            slot_event("faq_suggestions", ["signup_problem"]),
        ],
    )
    classify(
        shoes,
        [
            user_event(parse(shoes.text, faq=[("exchange", 0.6)])),
            bot_event("...", "utter_faq/exchange"),
        ],
    )
    assert fee.suggestions == ["invoice", "unknown_charge"]
    assert [(r.outcome, r.correct, r.one_click) for r in rows] == [
        ("answer", True, True),
        ("clarify", False, True),
        ("clarify", False, False),
        ("answer", False, False),
    ]
    scores = score(rows)
    assert scores.in_scope_accuracy == pytest.approx(1 / 3)
    assert scores.one_click_rate == pytest.approx(2 / 3)
    assert scores.oos_wrong_answer_rate == 1.0
    assert scores.line().endswith("one_click_rate=0.67")
    table = per_topic_table(rows, by="source")
    assert table[0][:4] == ["source", "rows", "correct", "one click"]
    assert table[1][:5] == ["crowd", "2", "0 (0%)", "0 (0%)", "1 (50%)"]
    assert table[2][:5] == ["shop", "2", "1 (50%)", "2 (100%)", "1 (50%)"]


def test_an_accept_cell_without_the_rows_topic_is_refused_with_the_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,topic,accept\nrefund please,returns_refund,payment\n")
    with pytest.raises(SystemExit, match="bad.csv:2: accept 'payment' leaves out the topic"):
        read_rows(bad)


def test_an_action_server_that_exits_mid_run_stops_the_evaluation(trained_model):
    import asyncio

    from tools.evaluation.evaluate import quiet_logs, run_rows

    quiet_logs()
    rows = [Row("hello", "other"), Row("where is my parcel", "order_status")]
    exits = iter([None, -9])  # alive after the first message, killed after the second
    with pytest.raises(SystemExit, match="action server exited \\(code -9\\) at row 2 of 2"):
        asyncio.run(
            run_rows(rows, trained_model, "http://127.0.0.1:9/webhook", lambda: next(exits))
        )
