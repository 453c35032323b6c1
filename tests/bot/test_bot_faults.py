"""When a piece fails (against a fake Rasa): silent custom actions, Rasa down, and the
web app starting again after it was stopped mid-answer."""

from __future__ import annotations

import time
from typing import Any

from bot_support import DISCLOSURE, online_agent, wait_for

from bot.recovery import answer_in_tracker, missed_notice
from bot.router import NEUTRALISER, asks_for_person

CHOOSE = "Pick one:"

# Async tests run under asyncio_mode = "auto" (pyproject.toml); the pure ones are plain.


async def texts(live, cid: str) -> list[tuple]:
    return [(m.author, m.text) for m in await live.service.messages_since(cid, 0)]


async def test_a_silent_turn_counts_as_the_assistant_being_unavailable(live, fake_rasa):
    cid, token, _ = await live.start_chat()
    fake_rasa.reply = lambda text: []  # what Rasa answers when a custom action fails
    status, body, _ = await live.say(cid, token, "Where is my parcel?")
    assert status == 201 and body["assistant_unavailable"] is True
    assert body["assistant_busy"] is False and body["handoff"] is None
    [notice] = body["replies"]
    assert notice["author"] == "system" and "unavailable" in notice["text"]
    assert [b["action"] for b in notice["buttons"]] == ["handoff", "contact"]
    assert (await texts(live, cid))[-2] == ("customer", "Where is my parcel?")


async def test_a_typed_request_for_a_person_with_silent_actions_goes_by_rasas_nlu(live, fake_rasa):
    await online_agent(live.service)
    cid, token, _ = await live.start_chat()
    fake_rasa.reply = lambda text: []
    fake_rasa.intent = lambda text: "human_request" if "rep" in text else "faq"
    status, body, _ = await live.say(cid, token, "put me through to a rep")
    assert status == 201 and body["handoff"]["outcome"] == "queued", body
    assert ("parse", "", {"text": "put me through to a rep"}) in fake_rasa.calls
    assert (await live.service.get_conversation(cid)).state == "queued"
    detail = await live.service.conversation_detail(cid)
    assert detail.handoff.reason == "customer_request"
    assert "while the assistant was unavailable" in detail.handoff.context["summary"]

    # Anything else still gets the notice, and no handoff.
    other, token2, _ = await live.start_chat()
    status, body, _ = await live.say(other, token2, "do you sell hats")
    assert body["handoff"] is None and body["assistant_unavailable"] is True


async def test_with_rasa_down_a_typed_request_for_a_person_still_reaches_one(live, fake_rasa):
    await online_agent(live.service)
    cid, token, _ = await live.start_chat()
    fake_rasa.down = True
    status, body, _ = await live.say(cid, token, "Where is my parcel?")
    assert body["handoff"] is None and body["assistant_unavailable"] is True
    status, body, _ = await live.say(cid, token, "can I talk to a human please")
    assert status == 201 and body["handoff"]["outcome"] == "queued", body
    assert (await live.service.get_conversation(cid)).state == "queued"


def test_the_words_that_ask_for_a_person() -> None:
    for text in (
        "Human please",
        "I want to talk to someone",
        "get me an AGENT!",
        "is there a real person there?",
        "customer service",
    ):
        assert asks_for_person(text), text
    for text in ("Where is my parcel?", "how do I reset my password", "agentur", "personal"):
        assert not asks_for_person(text), text


async def test_a_chat_opened_while_the_actions_were_down_gets_the_disclosure_later(live, fake_rasa):
    fake_rasa.actions["action_session_start"] = (200, [])  # the action failed
    cid, token, body = await live.start_chat()
    assert body["assistant_unavailable"] is True
    assert body["messages"][0]["author"] == "system"
    assert "(a bot) is unavailable" in body["messages"][0]["text"]

    fake_rasa.actions["action_session_start"] = (200, [{"text": DISCLOSURE}])
    status, body, _ = await live.say(cid, token, "How do returns work?")
    assert body["assistant_unavailable"] is False
    assert [(r["author"], r["text"]) for r in body["replies"]] == [
        ("bot", DISCLOSURE),
        ("bot", "Bot answer to: How do returns work?"),
    ]
    assert fake_rasa.executed().count("action_session_start") == 2
    # Opened once: the next message goes straight to Rasa.
    await live.say(cid, token, "thanks")
    assert fake_rasa.executed().count("action_session_start") == 2


async def test_after_a_restart_a_chat_opened_in_the_outage_is_still_opened(make_live, fake_rasa):
    first = await make_live()
    fake_rasa.actions["action_session_start"] = (200, [])
    cid, token, _ = await first.start_chat()
    await first.stop()

    second = await make_live()  # same database, a new process's memory
    fake_rasa.actions["action_session_start"] = (200, [{"text": DISCLOSURE}])
    replies = iter([[], [{"text": "Returns are free."}]])
    fake_rasa.reply = lambda text: next(replies)  # the broken tracker answers nothing once
    status, body, _ = await second.say(cid, token, "How do returns work?")
    assert [r["text"] for r in body["replies"]] == [DISCLOSURE, "Returns are free."]
    assert fake_rasa.webhook_texts() == ["How do returns work?"] * 2


def user(text: str, at: float) -> dict[str, Any]:
    return {"event": "user", "text": text, "timestamp": at}


def bot(text: str, **data: Any) -> dict[str, Any]:
    return {"event": "bot", "text": text, "data": data, "timestamp": 0}


def test_the_answer_is_the_turn_after_the_customers_last_message_in_the_tracker() -> None:
    events = [
        user("hi", 100.0),
        bot("Hello!"),
        {"event": "action", "name": "action_listen"},
        user("returns?", 200.0),
        bot("30 days.", buttons=[{"title": "Yes", "payload": "y"}]),
        bot(None, custom={"handoff": {"reason": "frustration"}}),
    ]
    turn = answer_in_tracker(events, "returns?", sent_at=199.9, choose=CHOOSE)
    assert turn is not None and [m.text for m in turn.messages] == ["30 days."]
    assert turn.messages[0].buttons == [{"title": "Yes", "payload": "y"}]
    assert turn.handoff == {"reason": "frustration"}
    # Rasa never got it: its last customer message is another one, or an older copy.
    assert answer_in_tracker(events, "hi", sent_at=100.0, choose=CHOOSE) is None
    assert answer_in_tracker(events, "returns?", sent_at=300.0, choose=CHOOSE) is None
    assert answer_in_tracker([], "returns?", sent_at=0, choose=CHOOSE) is None
    # A text that began with "/" reached Rasa neutralised.
    assert (
        answer_in_tracker(
            [user(NEUTRALISER + "/restart", 5.0), bot("Sorry?")], "/restart", 5.0, CHOOSE
        )
        .messages[0]
        .text
        == "Sorry?"
    )
    # Rasa got it and its action failed: a silent turn.
    assert answer_in_tracker([user("x", 5.0)], "x", 5.0, CHOOSE).silent


async def stopped_mid_answer(make_live, question: str) -> str:
    """A chat whose web app stopped after storing ``question``, before any answer."""
    first = await make_live()
    cid, _, _ = await first.start_chat()
    await first.service.add_customer_message(cid, question)
    await first.stop()
    return cid


async def test_a_question_left_unanswered_gets_rasas_answer_at_the_next_start(make_live, fake_rasa):
    cid = await stopped_mid_answer(make_live, "Can I return sale items?")
    # Rasa answered it meanwhile.
    fake_rasa.trackers[cid] = [
        user("Can I return sale items?", time.time()),
        bot("Yes, within 30 days."),
    ]
    second = await make_live()

    async def settled():
        return (await texts(second, cid))[-1] == ("bot", "Yes, within 30 days.")

    await wait_for(settled)
    assert ("tracker", cid, None) in fake_rasa.calls


async def test_a_question_rasa_never_got_gets_an_honest_notice_at_the_next_start(
    make_live, fake_rasa
):
    cid = await stopped_mid_answer(make_live, "Can I return sale items?")
    second = await make_live()  # Rasa's tracker does not have it

    async def settled():
        return (await texts(second, cid))[-1][0] == "system"

    await wait_for(settled)
    [last] = (await second.service.messages_since(cid, 0))[-1:]
    assert last.text == missed_notice(second.service.wording, "Can I return sale items?")
    assert 'missed your message "Can I return sale items?"' in last.text
    assert [b["action"] for b in last.buttons] == ["handoff", "contact"]
