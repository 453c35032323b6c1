"""The NLU classifier component (tools/nlu/shop_classifier.py) on small hand-built data."""

from __future__ import annotations

import pytest

from tools.nlu.shop_classifier import TextClassifier, nlu_output, normalise

TEXTS = {
    "faq/refund_timing": [
        "when will my refund arrive",
        "how long does a refund take",
        "refund timing please",
        "when do I get my money back",
    ],
    "faq/charged_twice": [
        "you charged me twice",
        "double payment on my card",
        "two charges for one order",
        "I was billed two times",
    ],
    "faq/password_reset": [
        "I forgot my password",
        "reset my password",
        "my password does not work",
        "new password please",
    ],
    "greet": ["hello", "hi there", "good morning", "hey"],
    "out_of_scope": [
        "what is the weather",
        "tell me a joke",
        "who won the match",
        "play some music",
    ],
}


@pytest.fixture(scope="module")
def classifier() -> TextClassifier:
    texts = [t for examples in TEXTS.values() for t in examples]
    labels = [label for label, examples in TEXTS.items() for _ in examples]
    return TextClassifier().fit(texts, labels)


def test_probabilities_cover_every_label_and_sum_to_one(classifier):
    rows = classifier.probabilities(["pasword reset", "refund when?"])
    assert rows.shape == (2, len(TEXTS))
    assert sorted(classifier.labels) == sorted(TEXTS)
    assert all(abs(row.sum() - 1) < 1e-9 for row in rows)


def test_typos_and_numbers_still_find_the_answer(classifier):
    labels = classifier.labels
    for text, expected in [
        ("i forgot my pasword", "faq/password_reset"),
        ("chargd twice for order 99812734", "faq/charged_twice"),
        ("HELLO", "greet"),
    ]:
        row = classifier.probabilities([text])[0]
        assert labels[row.argmax()] == expected, (text, dict(zip(labels, row.round(2))))


def test_numbers_are_one_token():
    assert normalise("Order 48213 for £3.50") == "order 0 for £0.0"


def test_one_label_is_refused():
    with pytest.raises(ValueError, match="at least two labels"):
        TextClassifier().fit(["a", "b"], ["greet", "greet"])


def test_nlu_output_sums_answers_into_their_intent_and_keeps_each_answer():
    labels = ["faq/a", "faq/b", "greet", "out_of_scope"]
    intent, ranking, selector = nlu_output(labels, [0.3, 0.25, 0.05, 0.4])
    # The FAQ intent is the sum of its answers (0.55) and ranks above out_of_scope (0.4).
    assert intent == {"name": "faq", "confidence": pytest.approx(0.55)}
    assert [r["name"] for r in ranking] == ["faq", "out_of_scope", "greet"]
    faq = selector["faq"]
    assert faq["response"]["intent_response_key"] == "faq/a"
    assert faq["response"]["utter_action"] == "utter_faq/a"
    # Each answer keeps its own probability: comparable with out_of_scope's.
    assert [(r["intent_response_key"], r["confidence"]) for r in faq["ranking"]] == [
        ("faq/a", 0.3),
        ("faq/b", 0.25),
    ]
    assert selector["all_retrieval_intents"] == ["faq"]
    _, short, cut = nlu_output(labels, [0.3, 0.25, 0.05, 0.4], ranking_length=1)
    assert len(short) == 1 and len(cut["faq"]["ranking"]) == 1


def test_the_rasa_component_trains_persists_loads_and_fills_the_parse(tmp_path):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from tools.nlu.shop_classifier import ShopIntentClassifier

    examples = []
    for label, texts in TEXTS.items():
        intent, _, answer = label.partition("/")
        for text in texts:
            data = {"text": text, "intent": intent}
            if answer:
                data["intent_response_key"] = label
            examples.append(Message(data=data))
    storage = LocalModelStorage(tmp_path)
    resource = Resource("shop_classifier")
    context = ExecutionContext(GraphSchema({}), "test")
    component = ShopIntentClassifier.create({}, storage, resource, context)
    component.train(TrainingData(training_examples=examples))

    loaded = ShopIntentClassifier.load({}, storage, resource, context)
    [message] = loaded.process([Message(data={"text": "you took the money twice"})])
    assert message.get("intent")["name"] == "faq"
    ranking = message.get("response_selector")["faq"]["ranking"]
    assert ranking[0]["intent_response_key"] == "faq/charged_twice"
    assert len(ranking) == 3  # ranking_length 0: every answer, for the topic sums
    [other] = loaded.process([Message(data={"text": "tell me a joke please"})])
    assert other.get("intent")["name"] == "out_of_scope"


def test_loading_without_a_trained_model_leaves_messages_alone(tmp_path):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message

    from tools.nlu.shop_classifier import ShopIntentClassifier

    component = ShopIntentClassifier.load(
        {}, LocalModelStorage(tmp_path), Resource("missing"), ExecutionContext(GraphSchema({}), "t")
    )
    [message] = component.process([Message(data={"text": "hello"})])
    assert message.get("intent") is None
