"""The contract between the processes (handoff/contract.py): one definition that the
action server's copy, the database and the browsers follow."""

from __future__ import annotations

import pytest

from actions import handoff_context
from bot.router import read_replies
from bot.settings import BotSettings
from handoff.contract import (
    HANDOFF_REQUEST_VERSION,
    MAX_MESSAGE_CHARS,
    REASON_LABELS,
    REASONS,
    HandoffReason,
    read_handoff_request,
    reason_check_sql,
)
from handoff.models import handoffs

CHOOSE = "Pick one:"  # the text above buttons sent without one


def test_the_action_servers_reason_names_are_the_contracts():
    # actions/ may import nothing of the web app, so it keeps a copy: this keeps it honest.
    assert tuple(handoff_context.REASONS) == REASONS
    assert set(REASON_LABELS) == set(REASONS)


def test_the_database_check_is_derived_from_the_reasons():
    check = next(c for c in handoffs.constraints if c.name == "ck_handoffs_reason_valid")
    assert str(check.sqltext) == reason_check_sql()
    assert all(f"'{reason.value}'" in reason_check_sql() for reason in HandoffReason)


def test_a_version_1_request_is_read_as_version_2_without_its_transcript():
    v1 = {
        "version": 1,
        "reason": "frustration",
        "summary": "upset",
        "transcript": [{"author": "customer", "text": "hm", "time": 1.0}],
        "intents": [{"name": "complain", "confidence": 0.9}],
    }
    request = read_handoff_request(v1)
    assert request == {
        "version": HANDOFF_REQUEST_VERSION,
        "reason": "frustration",
        "summary": "upset",
        "intents": [{"name": "complain", "confidence": 0.9}],
    }
    assert "transcript" in v1  # the caller's dict is left alone


def test_an_unknown_or_missing_reason_still_reaches_a_person():
    assert read_handoff_request({"reason": "rm -rf"})["reason"] == "customer_request"
    assert read_handoff_request({})["reason"] == "customer_request"


def test_rasas_custom_handoff_reply_is_read_as_version_2():
    turn = read_replies(
        [
            {"text": "One moment."},
            {"custom": {"handoff": {"version": 1, "reason": "low_confidence", "transcript": []}}},
        ],
        CHOOSE,
    )
    assert [m.text for m in turn.messages] == ["One moment."]
    assert read_handoff_request(turn.handoff) == {"version": 2, "reason": "low_confidence"}


def test_the_bot_may_not_take_longer_messages_than_the_store_keeps():
    assert BotSettings.from_env({"BOT_MAX_MESSAGE_CHARS": "500"}).max_message_chars == 500
    with pytest.raises(ValueError, match=f"at most {MAX_MESSAGE_CHARS}"):
        BotSettings.from_env({"BOT_MAX_MESSAGE_CHARS": str(MAX_MESSAGE_CHARS + 1)})


async def test_the_desk_reads_its_limits_and_labels_from_the_server(app_factory):
    client = app_factory().asgi_client
    _, response = await client.get("/api/agent/config")
    assert response.status == 200
    assert response.json == {"max_message_chars": MAX_MESSAGE_CHARS, "reason_labels": REASON_LABELS}
