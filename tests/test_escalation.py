"""The escalation paths, turn by turn, with hand-built trackers (no server)."""

from typing import Any, Dict, List, Optional, Tuple

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.escalation import EscalationState, after_answer, assess
from actions.faq import ActionAnswerFaq
from actions.handoff import HANDOFF_PAYLOAD_KEY, ActionHandback, ActionHandoff
from actions.replies import ActionDecline, ActionFeedback
from actions.thresholds import ESCALATION
from tests.helpers import bot_event, domain, parse, tracker, user_event

CLEAR = [("returns_policy", 0.95), ("exchange", 0.02)]
# Neither the topic (0.22) nor the answer is clear under the tuned thresholds.
UNCLEAR = [("refund_timing", 0.12), ("refund_missing", 0.1)]


class Chat:
    """A conversation driven action by action; slots carry over like in Rasa."""

    def __init__(self) -> None:
        self.slots: Dict[str, Any] = {}
        self.history: List[Dict[str, Any]] = []

    async def turn(
        self, action, message: Dict[str, Any]
    ) -> Tuple[List[Dict[str, Any]], Optional[Dict[str, Any]]]:
        """Run `action` on `message`; return (messages, handoff request or None)."""
        dispatcher = CollectingDispatcher()
        track = tracker(message, self.history, self.slots)
        events = await action.run(dispatcher, track, domain())
        self.history.append(user_event(message))
        for event in events:
            if event["event"] == "slot":
                self.slots[event["name"]] = event["value"]
        for m in dispatcher.messages:
            self.history.append(bot_event(m.get("text") or "", m.get("response")))
        handoff = next(
            (
                m["custom"][HANDOFF_PAYLOAD_KEY]
                for m in dispatcher.messages
                if HANDOFF_PAYLOAD_KEY in (m.get("custom") or {})
            ),
            None,
        )
        self.events = events
        return dispatcher.messages, handoff


def responses(messages) -> List[str]:
    return [m.get("response") for m in messages if m.get("response")]


async def test_first_failure_clarifies_second_hands_off_with_low_confidence():
    chat = Chat()
    messages, handoff = await chat.turn(ActionAnswerFaq(), parse("money thing", faq=UNCLEAR))
    assert responses(messages) == ["utter_clarify"] and handoff is None
    messages, handoff = await chat.turn(
        ActionAnswerFaq(), parse("the money", intent="nlu_fallback", confidence=0.3)
    )
    assert handoff is not None
    assert handoff["reason"] == "low_confidence"
    assert responses(messages) == ["utter_handoff_low_confidence"]
    assert [item["text"] for item in handoff["intents"]] == [
        "money thing",
        "the money",
    ]


async def test_something_else_after_suggestions_is_a_second_failure():
    chat = Chat()
    messages, _ = await chat.turn(ActionAnswerFaq(), parse("money thing", faq=UNCLEAR))
    assert "Something else" in [b["title"] for b in messages[0]["buttons"]]
    messages, handoff = await chat.turn(ActionFeedback(), parse("Something else", intent="deny"))
    assert handoff is not None and handoff["reason"] == "low_confidence"


async def test_a_good_answer_in_between_resets_the_failures():
    chat = Chat()
    await chat.turn(ActionAnswerFaq(), parse("money thing", faq=UNCLEAR))
    messages, _ = await chat.turn(ActionAnswerFaq(), parse("return policy", faq=CLEAR))
    assert "utter_faq/returns_policy" in responses(messages)
    assert chat.slots["failed_turns"] == 0
    _, handoff = await chat.turn(ActionAnswerFaq(), parse("the money", faq=UNCLEAR))
    assert handoff is None  # one failure again, not two in a row


async def test_clearly_frustrated_message_hands_off_with_empathy_not_an_faq_answer():
    chat = Chat()
    messages, handoff = await chat.turn(
        ActionAnswerFaq(), parse("this is useless!!! where is my refund", faq=CLEAR)
    )
    assert handoff["reason"] == "frustration"
    assert responses(messages) == ["utter_handoff_frustrated"]
    assert not any(r.startswith("utter_faq/") for r in responses(messages))
    assert handoff["frustration"]["score"] >= ESCALATION.clearly_frustrated
    assert any("useless" in cue for cue in handoff["frustration"]["cues"])
    assert "useless" in handoff["summary"]


async def test_frustration_adds_up_across_turns():
    chat = Chat()
    messages, handoff = await chat.turn(
        ActionDecline(), parse("I already told you that", intent="out_of_scope")
    )
    assert handoff is None and responses(messages) == ["utter_out_of_scope"]
    assert chat.slots["frustration_level"] > 0
    messages, handoff = await chat.turn(
        ActionDecline(), parse("you are not helping at all", intent="out_of_scope")
    )
    assert handoff is not None and handoff["reason"] == "frustration"
    assert len(handoff["frustration"]["cues"]) >= 2


async def test_calm_messages_do_not_add_up():
    chat = Chat()
    for text in ("I lost my password", "my parcel arrived damaged", "I was charged twice"):
        _, handoff = await chat.turn(
            ActionAnswerFaq(), parse(text, faq=[(f"k{len(chat.history)}", 0.95)])
        )
        assert handoff is None
    assert chat.slots["frustration_level"] == 0


async def test_explicit_request_hands_off_at_once_with_customer_request():
    chat = Chat()
    messages, handoff = await chat.turn(ActionHandoff(), parse("agent", intent="human_request"))
    assert handoff["reason"] == "customer_request"
    assert responses(messages) == ["utter_handoff"]


async def test_clearly_upset_message_read_as_a_request_is_escalated_as_frustration():
    chat = Chat()
    messages, handoff = await chat.turn(
        ActionHandoff(), parse("this is useless!!!", intent="human_request")
    )
    assert handoff["reason"] == "frustration"
    assert responses(messages) == ["utter_handoff_frustrated"]


async def test_upset_request_for_a_person_keeps_the_reason_and_shows_the_cues():
    chat = Chat()
    _, handoff = await chat.turn(
        ActionHandoff(), parse("this is useless, I want a human", intent="human_request")
    )
    assert handoff["reason"] == "customer_request"
    assert any("useless" in cue for cue in handoff["frustration"]["cues"])


async def test_answer_asks_whether_it_helped_without_nagging():
    chat = Chat()
    first, _ = await chat.turn(ActionAnswerFaq(), parse("return policy", faq=CLEAR))
    assert responses(first)[-1] == "utter_ask_helpful"
    assert [b["payload"] for b in first[-1]["buttons"]] == ["Yes", "No"]
    await chat.turn(ActionFeedback(), parse("yes", intent="affirm"))
    asked = []
    for key in ("invoice", "promo_code", "exchange"):
        messages, _ = await chat.turn(ActionAnswerFaq(), parse(key, faq=[(key, 0.95)]))
        asked.append("utter_ask_helpful" in responses(messages))
    assert asked == [False, False, True]  # after the 1st answer, then every 3rd


async def test_yes_is_recorded_as_helpful():
    chat = Chat()
    await chat.turn(ActionAnswerFaq(), parse("return policy", faq=CLEAR))
    messages, _ = await chat.turn(ActionFeedback(), parse("yes", intent="affirm"))
    assert responses(messages) == ["utter_glad_it_helped"]
    assert {
        "event": "slot",
        "name": "faq_feedback",
        "value": {"faq": "returns_policy", "helpful": True},
        "timestamp": None,
    } in chat.events


async def test_no_offers_rephrase_or_person_and_a_second_no_hands_off():
    chat = Chat()
    await chat.turn(ActionAnswerFaq(), parse("return policy", faq=CLEAR))
    messages, handoff = await chat.turn(ActionFeedback(), parse("no", intent="deny"))
    assert handoff is None
    assert responses(messages) == ["utter_sorry_unhelpful"]
    assert messages[0]["buttons"][0]["title"] == "Talk to a person"
    assert chat.slots["faq_feedback"] == {"faq": "returns_policy", "helpful": False}
    messages, _ = await chat.turn(ActionAnswerFaq(), parse("exchange?", faq=[("exchange", 0.9)]))
    assert responses(messages)[-1] == "utter_ask_helpful"  # asked again after a "no"
    messages, handoff = await chat.turn(ActionFeedback(), parse("no", intent="deny"))
    assert handoff["reason"] == "unhelpful_answer"
    assert handoff["faq_answers"] == ["returns_policy", "exchange"]


async def test_same_question_again_is_acknowledged_not_answered_twice():
    chat = Chat()
    await chat.turn(ActionAnswerFaq(), parse("return policy", faq=CLEAR))
    messages, handoff = await chat.turn(
        ActionAnswerFaq(), parse("what's the return policy again", faq=CLEAR)
    )
    assert handoff is None
    assert responses(messages) == ["utter_same_question"]
    assert messages[0]["buttons"][0]["title"] == "Talk to a person"
    _, handoff = await chat.turn(ActionAnswerFaq(), parse("RETURN POLICY", faq=CLEAR))
    assert handoff is not None and handoff["reason"] == "unhelpful_answer"


async def test_yes_or_no_out_of_context_asks_how_to_help():
    chat = Chat()
    messages, _ = await chat.turn(ActionFeedback(), parse("yes", intent="affirm"))
    assert responses(messages) == ["utter_how_can_i_help"]


async def test_hand_back_greets_the_customer_and_resets_the_counters():
    chat = Chat()
    await chat.turn(ActionAnswerFaq(), parse("money thing", faq=UNCLEAR))
    await chat.turn(ActionDecline(), parse("I already told you", intent="out_of_scope"))
    assert chat.slots["failed_turns"] == 1 and chat.slots["frustration_level"] > 0
    messages, _ = await chat.turn(ActionHandback(), parse("", intent="", confidence=0.0))
    assert responses(messages) == ["utter_welcome_back"]
    assert chat.slots["failed_turns"] == 0
    assert chat.slots["frustration_level"] == 0
    assert chat.slots["frustration_cues"] == []
    _, handoff = await chat.turn(ActionAnswerFaq(), parse("money thing", faq=UNCLEAR))
    assert handoff is None  # a fresh start: first failure clarifies again


def test_after_answer_resets_failures():
    state, ask = after_answer(EscalationState(failures=1), "invoice")
    assert state.failures == 0 and state.last_faq == "invoice" and ask


def test_assess_decays_the_level():
    calm = assess(EscalationState(level=1.0), "ok")
    assert calm.state.level == pytest.approx(1.0 * ESCALATION.decay)
