"""bot/router.py: bot or person, /intent neutralising, reading Rasa's replies, labels; and
bot/notices.py: the queue notice and the buttons, in the words of shop.yml."""

from __future__ import annotations

import pytest

from actions.content import PROJECT_ROOT
from bot.notices import contact_buttons, person_or_message_buttons, queued_notice
from bot.router import (
    NEUTRALISER,
    Action,
    handoff_reason,
    rasa_safe_text,
    read_replies,
    route_customer_message,
    split_long,
)
from handoff.messages import RUNTIME_PLACEHOLDERS, Messages, load_messages


@pytest.mark.parametrize("state", ["queued", "assigned"])
def test_a_person_handles_the_chat_so_the_bot_is_not_asked(state):
    route = route_customer_message(state, "hello")
    assert route.action is Action.TO_AGENT and route.rasa_text is None


CHOOSE = "Pick one:"  # the text above buttons sent without one


def test_in_state_bot_the_bot_is_asked_with_safe_text():
    assert route_customer_message("bot", "How do returns work?").action is Action.ASK_BOT
    assert route_customer_message("bot", "/restart").rasa_text == NEUTRALISER + "/restart"


@pytest.mark.parametrize("state", ["closed", "nonsense"])
def test_closed_or_unknown_states_refuse(state):
    route = route_customer_message(state, "hello")
    assert route.action is Action.REFUSE and "closed" in route.reason


@pytest.mark.parametrize("typed", ["/restart", "  /restart", '\n/faq{"a":1}', "/"])
def test_no_typed_text_reaches_rasa_as_an_intent_command(typed):
    safe = rasa_safe_text(typed)
    # Rasa's RegexMessageHandler looks at text.strip().startswith("/").
    assert not safe.strip().startswith("/")
    assert safe.strip(NEUTRALISER) == typed.strip()


def test_plain_text_is_unchanged():
    assert rasa_safe_text("price 1/2 off?") == "price 1/2 off?"


def test_replies_split_into_visible_messages_and_the_handoff_request():
    turn = read_replies(
        [
            {"recipient_id": "c", "text": "Bringing in a person."},
            {"recipient_id": "c", "custom": {"handoff": {"reason": "frustration", "summary": "s"}}},
            {
                "recipient_id": "c",
                "text": "Which one?",
                "buttons": [{"title": "Returns", "payload": "How do returns work?"}, {"bad": 1}],
            },
        ],
        CHOOSE,
    )
    assert [m.text for m in turn.messages] == ["Bringing in a person.", "Which one?"]
    assert turn.messages[1].buttons == [{"title": "Returns", "payload": "How do returns work?"}]
    assert turn.handoff == {"reason": "frustration", "summary": "s"}


def test_replies_without_handoff_have_none():
    assert read_replies([{"text": "hi"}, "junk", {"custom": {"other": 1}}], CHOOSE).handoff is None


def test_unknown_handoff_reasons_fall_back_to_customer_request():
    assert handoff_reason({"reason": "frustration"}) == "frustration"
    assert handoff_reason({"reason": "rm -rf"}) == "customer_request"
    assert handoff_reason({}) == "customer_request"


def test_queue_notice_says_position_and_wait_in_the_shop_files_words():
    wording = load_messages(PROJECT_ROOT / "shop.yml")
    notice = queued_notice(wording, 3, 540)
    assert "number 3 in line" in notice and "about 9 minutes" in notice
    assert "about 1 minute." in queued_notice(wording, 2, 50)
    assert "next in line" in queued_notice(wording, 1, None)
    assert "estimated wait" not in queued_notice(wording, 1, None)
    assert "{" not in notice  # every placeholder filled


def test_queue_notice_and_buttons_follow_what_the_trainer_wrote():
    texts = {key: f"<{key}>" for key in RUNTIME_PLACEHOLDERS}
    texts["queued_wait"] = "Place {position}, wait {wait}"
    texts["wait_minutes"] = "{minutes} min"
    wording = Messages(texts, {"shop_name": "Shop"})
    assert queued_notice(wording, 4, 300) == "Place 4, wait 5 min"
    assert queued_notice(wording, 1, None) == "<queued_next>"
    assert person_or_message_buttons(wording) == [
        {"title": "<button_talk_to_person>", "action": "handoff"},
        {"title": "<button_leave_message>", "action": "contact"},
    ]
    assert contact_buttons(wording) == [{"title": "<button_leave_contact>", "action": "contact"}]


def test_long_bot_texts_split_without_losing_words():
    text = " ".join(f"word{i}" for i in range(800))
    parts = split_long(text, 2000)
    assert all(len(p) <= 2000 for p in parts) and " ".join(parts) == text
    assert split_long("x" * 4500, 2000) == ["x" * 2000, "x" * 2000, "x" * 500]


def test_buttons_sent_without_text_get_the_choose_wording_above_them():
    turn = read_replies([{"buttons": [{"title": "Returns", "payload": "returns"}]}], CHOOSE)
    assert [m.text for m in turn.messages] == [CHOOSE]
    assert turn.messages[0].buttons == [{"title": "Returns", "payload": "returns"}]
