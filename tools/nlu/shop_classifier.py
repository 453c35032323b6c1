"""A calibrated intent and FAQ classifier for the Rasa pipeline (config.yml).

One logistic regression over character and word n-grams of the message reads every
intent *and* every FAQ answer (`faq/<key>`) as one label set, so all confidences are
probabilities of one distribution and can be compared: the `faq` intent's confidence is
the sum over its answers, and the FAQ ranking (where Rasa's ResponseSelector would put
it) holds each answer's own probability. DIET and the ResponseSelector spread their
confidence over sibling answers on unfamiliar wording; a linear model on n-grams is
steadier there and trains in seconds. `actions/faq_decision.py` reads the result.

It lives outside `actions/` because the action server imports every module there, and
this one imports Rasa.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Sequence, Text, Tuple

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import RESPONSE_SELECTOR_PROPERTY_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

MODEL_FILE = "shop_classifier.joblib"
_DIGITS = re.compile(r"\d+")


def normalise(text: str) -> str:
    """Lower case, every number as "0": order numbers and amounts say nothing about the
    need, and their many digits would outweigh the words of a short message."""
    return _DIGITS.sub("0", text.lower())


class TextClassifier:
    """The model itself, free of Rasa: texts and labels in, probabilities out."""

    def __init__(self, c: float = 10.0, max_ngram_chars: int = 5, seed: int = 1) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_union

        # Character n-grams within word boundaries survive typos ("pasword", "refnd")
        # and inflections; word uni- and bigrams carry phrases ("money back").
        self.features = make_union(
            TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=(2, max_ngram_chars),
                sublinear_tf=True,
                preprocessor=normalise,
            ),
            TfidfVectorizer(
                analyzer="word",
                ngram_range=(1, 2),
                sublinear_tf=True,
                preprocessor=normalise,
                token_pattern=r"(?u)\b\w+\b",
            ),
        )
        self.model = LogisticRegression(C=c, max_iter=5000, random_state=seed)

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TextClassifier:
        """Learn from example texts and their labels (at least two labels)."""
        if len(set(labels)) < 2:
            raise ValueError("the classifier needs examples of at least two labels")
        self.model.fit(self.features.fit_transform(list(texts)), list(labels))
        return self

    @property
    def labels(self) -> List[str]:
        """The labels, in the column order of `probabilities`."""
        return [str(label) for label in self.model.classes_]

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text: the probability of every label (rows sum to 1)."""
        return self.model.predict_proba(self.features.transform(list(texts)))


def nlu_output(
    labels: Sequence[str], probabilities: Sequence[float], ranking_length: int = 0
) -> Tuple[Dict[str, Any], List[Dict[str, Any]], Dict[str, Any]]:
    """Rasa's intent, intent ranking and response-selector output from one distribution.

    Labels `<intent>/<answer>` are the answers of a retrieval intent: the intent gets the
    sum of its answers' probabilities; each answer keeps its own in the retrieval
    intent's ranking (so an answer's confidence is comparable to `out_of_scope`'s).
    `ranking_length` > 0 cuts both rankings (0: everything, which the decision needs to
    add up each topic).
    """
    cut = ranking_length if ranking_length > 0 else None
    intents: Dict[str, float] = {}
    answers: Dict[str, List[Tuple[str, float]]] = {}
    for label, probability in zip(labels, probabilities):
        intent = label.split("/", 1)[0]
        intents[intent] = intents.get(intent, 0.0) + float(probability)
        if "/" in label:
            answers.setdefault(intent, []).append((label, float(probability)))
    ranking = sorted(
        ({"name": name, "confidence": conf} for name, conf in intents.items()),
        key=lambda item: item["confidence"],
        reverse=True,
    )
    selector: Dict[str, Any] = {"all_retrieval_intents": sorted(answers)}
    for intent, ranked in answers.items():
        ranked.sort(key=lambda item: item[1], reverse=True)
        best_key, best_conf = ranked[0]
        selector[intent] = {
            "response": {
                "intent_response_key": best_key,
                "confidence": best_conf,
                "utter_action": f"utter_{best_key}",
                "responses": None,
            },
            "ranking": [
                {"intent_response_key": key, "confidence": conf} for key, conf in ranked[:cut]
            ],
        }
    return ranking[0], ranking[:cut], selector


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class ShopIntentClassifier(IntentClassifier, GraphComponent):
    """Intents and FAQ answers from one calibrated n-gram logistic regression."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """C: inverse regularisation; ranking_length: answers and intents reported (0: all)."""
        return {"C": 10.0, "max_ngram_chars": 5, "ranking_length": 0, "random_seed": 1}

    @staticmethod
    def required_packages() -> List[Text]:
        """scikit-learn comes with Rasa."""
        return ["sklearn"]

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        classifier: TextClassifier | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.classifier = classifier

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ShopIntentClassifier:
        """An untrained classifier."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit on every intent example; FAQ examples under their `faq/<key>` label."""
        texts, labels = [], []
        for example in training_data.intent_examples:
            text, intent = example.get(TEXT), example.get(INTENT)
            if text and intent:
                texts.append(text)
                labels.append(example.get(INTENT_RESPONSE_KEY) or intent)
        self.classifier = TextClassifier(
            c=self.config["C"],
            max_ngram_chars=self.config["max_ngram_chars"],
            seed=self.config["random_seed"],
        ).fit(texts, labels)
        self.persist()
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        """Set intent, intent_ranking and the FAQ ranking on each message."""
        if self.classifier is None:
            return messages
        texts = [message.get(TEXT) or "" for message in messages]
        probabilities = self.classifier.probabilities(texts)
        for message, row in zip(messages, probabilities):
            intent, ranking, selector = nlu_output(
                self.classifier.labels, row, self.config["ranking_length"]
            )
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            message.set(RESPONSE_SELECTOR_PROPERTY_NAME, selector, add_to_output=True)
        return messages

    def persist(self) -> None:
        """Store the fitted model with the Rasa model."""
        import joblib

        with self._model_storage.write_to(self._resource) as folder:
            joblib.dump(self.classifier, folder / MODEL_FILE)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ShopIntentClassifier:
        """The classifier stored by `persist` (untrained if there is none)."""
        import joblib

        try:
            with model_storage.read_from(resource) as folder:
                classifier = joblib.load(folder / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("ShopIntentClassifier: no trained model found; it will not classify")
            classifier = None
        return cls(config, model_storage, resource, classifier)
