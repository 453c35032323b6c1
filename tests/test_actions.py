"""The custom actions, run against hand-built trackers (no server)."""

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.content import faq_catalog, shop_facts
from actions.faq import HUMAN_BUTTON, SUGGESTIONS_SLOT, ActionAnswerFaq
from actions.handoff import HANDOFF_PAYLOAD_KEY, ActionHandoff
from actions.session import ActionSessionStart
from tests.helpers import bot_event, domain, parse, tracker


def slot(events, name):
    """The value the events set `name` to (the last one); fails if never set."""
    values = [e["value"] for e in events if e["event"] == "slot" and e["name"] == name]
    assert values, f"{name} not set in {events}"
    return values[-1]


async def run(action, track):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, track, domain())
    return dispatcher.messages, events


async def test_session_starts_with_the_disclosure_filled_from_shop_yml():
    messages, events = await run(ActionSessionStart(), tracker(parse("hi", "greet")))
    assert [m["response"] for m in messages] == ["utter_disclosure"]
    assert messages[0]["shop_name"] == shop_facts()["shop_name"]
    assert [e["event"] for e in events] == [
        "session_started",
        "action",
    ]
    assert events[1]["name"] == "action_listen"


async def test_confident_faq_is_answered_with_the_shop_facts_it_uses():
    track = tracker(
        parse("how long to return?", faq=[("returns_policy", 0.95), ("exchange", 0.02)])
    )
    messages, events = await run(ActionAnswerFaq(), track)
    assert [m["response"] for m in messages] == ["utter_faq/returns_policy", "utter_ask_helpful"]
    # Only the placeholders this answer uses travel with it.
    assert messages[0]["return_window_days"] == shop_facts()["return_window_days"]
    assert "support_phone" not in messages[0]
    assert slot(events, SUGGESTIONS_SLOT) is None
    assert slot(events, "last_faq") == "returns_policy"


async def test_unsure_choice_offers_suggestions_and_a_person():
    track = tracker(parse("money", faq=[("refund_timing", 0.12), ("refund_missing", 0.1)]))
    messages, events = await run(ActionAnswerFaq(), track)
    assert messages[0]["response"] == "utter_clarify"
    titles = [b["title"] for b in messages[0]["buttons"]]
    catalog = faq_catalog()
    assert titles == [
        catalog["refund_timing"].title,
        catalog["refund_missing"].title,
        "Something else",
        HUMAN_BUTTON["title"],
    ]
    # Payloads are plain text, never "/intent" that a customer could type.
    assert all(not b["payload"].startswith("/") for b in messages[0]["buttons"])
    assert slot(events, SUGGESTIONS_SLOT) == ["refund_timing", "refund_missing"]
    assert slot(events, "failed_turns") == 1


async def test_pressing_a_suggestion_answers_that_faq_even_if_nlu_is_unsure():
    title = faq_catalog()["refund_missing"].title
    track = tracker(
        parse(title, intent="nlu_fallback", confidence=0.3, faq=[("refund_timing", 0.5)]),
        slots={SUGGESTIONS_SLOT: ["refund_timing", "refund_missing"]},
    )
    messages, events = await run(ActionAnswerFaq(), track)
    assert [m["response"] for m in messages][:1] == ["utter_faq/refund_missing"]
    assert slot(events, SUGGESTIONS_SLOT) is None


async def test_a_suggestion_title_not_offered_goes_through_the_normal_check():
    title = faq_catalog()["invoice"].title
    track = tracker(
        parse(title, confidence=0.9, faq=[("invoice", 0.12), ("promo_code", 0.1)]), slots={}
    )
    messages, _ = await run(ActionAnswerFaq(), track)
    assert messages[0]["response"] == "utter_clarify"


async def test_nothing_to_suggest_asks_to_rephrase_and_offers_a_person():
    track = tracker(parse("blorp", intent="nlu_fallback", confidence=0.3))
    messages, events = await run(ActionAnswerFaq(), track)
    assert messages[0]["response"] == "utter_clarify_no_suggestion"
    assert messages[0]["buttons"] == [HUMAN_BUTTON]
    assert slot(events, SUGGESTIONS_SLOT) is None


async def test_handoff_on_request_tells_the_customer_and_carries_the_context():
    history = [
        {
            "event": "user",
            "text": "where is my parcel",
            "timestamp": 1.0,
            "parse_data": parse("where is my parcel", faq=[("order_status", 0.9)]),
        },
        bot_event("You can follow your order ...", "utter_faq/order_status"),
    ]
    track = tracker(
        parse("let me talk to a human", "human_request", 0.97), history, sender_id="c-42"
    )
    messages, events = await run(ActionHandoff(), track)
    assert messages[0]["response"] == "utter_handoff"
    request = messages[1]["custom"][HANDOFF_PAYLOAD_KEY]
    assert request["reason"] == "customer_request"
    assert request["conversation_id"] == "c-42"
    assert request["faq_answers"] == ["order_status"]
    assert request["version"] == 2 and "transcript" not in request
    assert [item["text"] for item in request["intents"]] == [
        "where is my parcel",
        "let me talk to a human",
    ]
    assert request["intents"][0] == {
        "text": "where is my parcel",
        "name": "faq",
        "confidence": 0.98,
        "faq": "order_status",
        "faq_confidence": 0.9,
    }
    assert "asked to talk to a person" in request["summary"]
    assert "where is my parcel" in request["summary"]
    assert faq_catalog()["order_status"].title in request["summary"]
    assert slot(events, "feedback_pending") is None


def test_unknown_handoff_reason_is_refused():
    from actions.handoff_context import build_handoff_request

    with pytest.raises(ValueError, match="unknown handoff reason"):
        build_handoff_request("bored", [])


def test_transcript_only_covers_the_current_session():
    from actions.handoff_context import transcript

    events = [
        {"event": "user", "text": "old question"},
        {"event": "session_started"},
        {"event": "user", "text": "new question"},
    ]
    assert [line["text"] for line in transcript(events)] == ["new question"]
