"""Real conversations with the trained model and the real action server."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from actions.content import faq_catalog

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def agent(trained_model, action_server):
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    from tools.evaluation.evaluate import quiet_logs

    quiet_logs()
    return Agent.load(str(trained_model), action_endpoint=EndpointConfig(url=action_server))


class Conversation:
    """One customer talking to the assistant; keeps what was said and done."""

    def __init__(self, agent) -> None:
        self.agent = agent
        self.sender = f"test-{uuid.uuid4().hex}"

    async def say(self, text: str) -> list[dict[str, Any]]:
        """Send a message; return the bot's replies."""
        return await self.agent.handle_text(text, sender_id=self.sender) or []

    async def bot_events(self) -> list[dict[str, Any]]:
        tracker = await self.agent.tracker_store.retrieve(self.sender)
        return [e.as_dict() for e in tracker.events if e.as_dict()["event"] == "bot"]

    async def answer(self) -> dict[str, Any]:
        """The last FAQ answer given: its response name and text."""
        answers = [
            e
            for e in await self.bot_events()
            if ((e.get("metadata") or {}).get("utter_action") or "").startswith("utter_faq/")
        ]
        assert answers, f"no FAQ answer in {await self.responses()}"
        return {"response": answers[-1]["metadata"]["utter_action"], "text": answers[-1]["text"]}

    async def responses(self) -> list[str]:
        """The names of the responses the bot used, in order."""
        return [(e.get("metadata") or {}).get("utter_action", "") for e in await self.bot_events()]


def topic_of(response: str) -> str:
    return faq_catalog()[response.split("/", 1)[1]].topic


async def test_first_message_is_the_honest_disclosure(agent):
    chat = Conversation(agent)
    replies = await chat.say("hello")
    first = replies[0]["text"]
    assert "bot" in first and "automated" in first
    assert "person" in first  # a person is one message away
    assert "returns" in first and "payments" in first  # what it can help with
    assert (await chat.responses())[:2] == ["utter_disclosure", "utter_greet"]


async def test_returns_question_gets_a_returns_answer(agent):
    chat = Conversation(agent)
    await chat.say("I'd like to send back a pair of trousers, how do I return them?")
    answers = [r for r in await chat.responses() if r.startswith("utter_faq/")]
    assert len(answers) == 1 and topic_of(answers[0]) == "returns_refund", answers


async def test_payment_question_gets_a_payment_answer(agent):
    chat = Conversation(agent)
    await chat.say("which payment methods do you accept?")
    answer = await chat.answer()
    assert answer["response"] == "utter_faq/payment_methods"
    assert "PayPal" in answer["text"]


async def test_answers_carry_the_shop_facts(agent):
    chat = Conversation(agent)
    replies = await chat.say("what is your return policy?")
    answer = await chat.answer()
    assert answer["response"] == "utter_faq/returns_policy"
    assert "30 days" in answer["text"]
    assert not any("{" in (r.get("text") or "") for r in replies)


async def test_are_you_a_bot_is_answered_truthfully(agent):
    chat = Conversation(agent)
    await chat.say("hi")
    replies = await chat.say("are you a bot?")
    assert (await chat.responses())[-1] == "utter_iamabot"
    text = replies[-1]["text"].lower()
    assert "bot" in text and ("not a human" in text or "automated" in text)


async def test_unrelated_question_gets_no_faq_answer(agent):
    chat = Conversation(agent)
    await chat.say("what's the capital of Australia?")
    responses = await chat.responses()
    assert not any(r.startswith("utter_faq/") for r in responses), responses
    assert responses[-1] in ("utter_out_of_scope", "utter_clarify", "utter_clarify_no_suggestion")


async def test_asking_for_a_person_hands_off_with_context(agent):
    chat = Conversation(agent)
    await chat.say("where is my order?")
    replies = await chat.say("I want to talk to a real person")
    payloads = [r["custom"]["handoff"] for r in replies if "handoff" in (r.get("custom") or {})]
    assert len(payloads) == 1
    request = payloads[0]
    assert request["reason"] == "customer_request"
    assert request["conversation_id"] == chat.sender
    assert request["faq_answers"] == ["order_status"]
    assert "where is my order?" in request["summary"]


def handoffs(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r["custom"]["handoff"] for r in replies if "handoff" in (r.get("custom") or {})]


async def test_two_unclear_messages_clarify_then_hand_off_with_low_confidence(agent):
    chat = Conversation(agent)
    first = await chat.say("I have a problem")
    assert handoffs(first) == []
    assert (await chat.responses())[-1].startswith("utter_clarify")
    assert any(b["title"] == "Talk to a person" for b in first[-1].get("buttons") or [])
    second = await chat.say("problem with my account and the order")
    [request] = handoffs(second)
    assert request["reason"] == "low_confidence"
    assert "I have a problem" in request["summary"]
    customer_lines = [item["text"] for item in request["intents"]]
    assert customer_lines == ["I have a problem", "problem with my account and the order"]
    assert [i["name"] for i in request["intents"]] and all(
        "confidence" in i for i in request["intents"]
    )


async def test_a_clearly_upset_message_hands_off_with_frustration_and_its_cues(agent):
    chat = Conversation(agent)
    replies = await chat.say("this is useless!!!")
    [request] = handoffs(replies)
    assert request["reason"] == "frustration"
    assert any("useless" in cue for cue in request["frustration"]["cues"])
    assert request["frustration"]["score"] >= 0.8
    assert "frustrat" in request["summary"].lower() and "useless" in request["summary"]
    assert not any(r.startswith("utter_faq/") for r in await chat.responses())


async def test_agent_alone_is_a_request_for_a_person(agent):
    chat = Conversation(agent)
    [request] = handoffs(await chat.say("agent"))
    assert request["reason"] == "customer_request"


async def test_two_no_answers_to_did_that_help_bring_a_person(agent):
    chat = Conversation(agent)
    first = await chat.say("how do I reset my password?")
    assert [b["title"] for b in first[-1]["buttons"]] == ["Yes", "No"]
    assert handoffs(await chat.say("No")) == []
    await chat.say("the password reset email never arrives")
    [request] = handoffs(await chat.say("No"))
    assert request["reason"] == "unhelpful_answer"
    assert len(request["faq_answers"]) == 2


async def test_frustration_adding_up_over_two_messages_brings_a_person(agent):
    chat = Conversation(agent)
    assert handoffs(await chat.say("I already told you that")) == []
    [request] = handoffs(await chat.say("you are not helping at all"))
    assert request["reason"] == "frustration"
    assert len(request["frustration"]["cues"]) >= 2


# --- unfamiliar wording (issue 10): how customers write, not how the training data does ---
# Written for these tests; none of them is a training example or a development-set row.
@pytest.mark.parametrize(
    "text, topic",
    [
        (
            "the jeans pinch at the waist so I'd like them to go "
            "back to you and get my money returned",
            "returns_refund",
        ),
        (
            "hi, ordered a lamp (order 48213) but I'd rather have "
            "my money back, how do I arrange that?",
            "returns_refund",
        ),
        ("I'm 100% sure of my password yet the login screen refuses it", "login_password"),
        (
            "can't get into my account, it says the password "
            "doesn't match but I've used it for years",
            "login_password",
        ),
        ("there's a £3 fee on my bank statement from you and I have no idea what it is", "payment"),
        ("my card got debited two times for one order, can you sort it?", "payment"),
        ("the payment keeps bouncing when I try to check out", "payment"),
    ],
)
async def test_unfamiliar_wording_gets_the_right_answer(agent, text, topic):
    chat = Conversation(agent)
    await chat.say(text)
    answer = await chat.answer()
    assert topic_of(answer["response"]) == topic, (text, answer["response"])


@pytest.mark.parametrize(
    "text",
    [
        "which size of your trainers would fit a 27 cm foot?",
        "do you sell gift vouchers?",
        "are you recruiting for the Christmas season?",
        "how should I wash a cashmere scarf?",
    ],
)
async def test_shop_questions_the_faq_does_not_answer_get_no_faq_answer(agent, text):
    chat = Conversation(agent)
    await chat.say(text)
    responses = await chat.responses()
    assert not any(r.startswith("utter_faq/") for r in responses), (text, responses)


async def test_two_polite_complaints_bring_a_person_without_a_swear_word(agent):
    chat = Conversation(agent)
    first = await chat.say(
        "I've written to you three times about order 55123 and heard nothing back"
    )
    assert handoffs(first) == []  # upset, but not yet a handoff
    [request] = handoffs(
        await chat.say("you promised it would be sorted by Monday and it's Thursday")
    )
    assert request["reason"] == "frustration"
    kinds = " ".join(request["frustration"]["cues"])
    assert "broken promise" in kinds
