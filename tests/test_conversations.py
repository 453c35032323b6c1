"""Real conversations with the trained model and the real action server."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List

import pytest

from actions.content import faq_catalog

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def agent(trained_model, action_server):
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    return Agent.load(str(trained_model), action_endpoint=EndpointConfig(url=action_server))


class Conversation:
    """One customer talking to the assistant; keeps what was said and done."""

    def __init__(self, agent) -> None:
        self.agent = agent
        self.sender = f"test-{uuid.uuid4().hex}"

    async def say(self, text: str) -> List[Dict[str, Any]]:
        """Send a message; return the bot's replies."""
        return await self.agent.handle_text(text, sender_id=self.sender) or []

    async def bot_events(self) -> List[Dict[str, Any]]:
        tracker = await self.agent.tracker_store.retrieve(self.sender)
        return [e.as_dict() for e in tracker.events if e.as_dict()["event"] == "bot"]

    async def responses(self) -> List[str]:
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
    replies = await chat.say("which payment methods do you accept?")
    assert (await chat.responses())[-1] == "utter_faq/payment_methods"
    assert "PayPal" in replies[-1]["text"]


async def test_answers_carry_the_shop_facts(agent):
    chat = Conversation(agent)
    replies = await chat.say("what is your return policy?")
    assert "30 days" in replies[-1]["text"]
    assert "{" not in replies[-1]["text"]


async def test_are_you_a_bot_is_answered_truthfully(agent):
    chat = Conversation(agent)
    await chat.say("hi")
    replies = await chat.say("are you a bot?")
    assert (await chat.responses())[-1] == "utter_iamabot"
    text = replies[-1]["text"].lower()
    assert "bot" in text and "not a human" in text or "automated" in text


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
