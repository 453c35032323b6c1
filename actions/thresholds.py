"""Every threshold of the action layer, in one place.

The values were chosen by measurement on the development sets (see README, "Thresholds");
change them here only, then re-run `make eval` / `make eval-frustration`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FaqThresholds:
    """When an FAQ answer is given, and when the assistant asks instead.

    Confidences are probabilities of one distribution over every intent and FAQ answer
    (tools/nlu/shop_classifier.py), so a topic's confidence is the sum over its answers.
    Chosen with `python -m tools.evaluation.tune_thresholds` (README, "Thresholds").
    """

    #: The chosen answer's own probability must reach this (its probability is shared
    #: with 36 other answers and 8 intents, so 0.15 is already a clear first choice)...
    min_answer_confidence: float = 0.15
    #: ...and be this far ahead of its best sibling in the same topic. Measured: any
    #: margin above 0 turns right answers into clarifications and stops no wrong ones
    #: (the topic check below does that work).
    min_margin: float = 0.0
    #: The answer's topic (sum over its answers) must reach this, else the topic is
    #: unclear and the best answers overall are offered.
    min_topic_confidence: float = 0.3
    #: The NLU intent `faq` (the sum over all answers) must be at least this confident.
    min_intent_confidence: float = 0.3
    #: How many suggestions to offer as buttons when clarifying.
    max_suggestions: int = 3
    #: A suggestion is only offered when it has at least this probability...
    min_suggestion_confidence: float = 0.05
    #: ...and the message looks at least this much like an FAQ question at all.
    min_suggestion_intent_confidence: float = 0.2
    #: Sibling answers of a clear topic are offered from this probability on.
    min_sibling_confidence: float = 0.03


FAQ = FaqThresholds()

# --- frustration (owned by actions/frustration.py) -------------------------------------


@dataclass(frozen=True)
class FrustrationThresholds:
    """Weights of the per-message frustration score, and the decision threshold.

    The score is a weighted sum of a few signals, clipped to [0, 1]; a message is
    frustrated when the score reaches `threshold`. Weights and threshold were tuned on
    aggregate results of the development set (GoEmotions Reddit comments, via
    `python -m tools.evaluation.eval_frustration`: grid search over these values); no text of that
    set is used anywhere in the code.
    """

    #: A message is frustrated when its score reaches this.
    threshold: float = 0.55
    #: Weight of each kind of cue found by the spaCy patterns (first cue of a kind).
    #: One clear cue is enough on its own (0.6 >= threshold); sentiment, shouting and
    #: punctuation only tip the balance together.
    insult: float = 0.6
    swearing: float = 0.6
    complaint: float = 0.6
    repetition: float = 0.6
    anger: float = 0.6
    dismissive: float = 0.6
    manager: float = 0.6
    #: Polite complaints: a threat to leave and sarcasm count like the cues above;
    #: what went wrong (money or goods lost, a broken promise) nearly so; time passed and
    #: contact repeated are mild and only make frustration together with something else
    #: ("still waiting since the 3rd", "you said Friday; it's Tuesday").
    leaving: float = 0.6
    sarcasm: float = 0.6
    loss: float = 0.55
    broken_promise: float = 0.55
    waiting: float = 0.3
    repeat_contact: float = 0.3
    #: The learned reader (actions/frustration_model.py) lifts a message's score to this
    #: (upset: softer tone, counts towards a handoff; never more) when it reads the message
    #: as written to the shop (probability at least `learned_min_shop`) and, as a shop
    #: message, unhappy (at least `learned_min_unhappy`). 0 switches the reader off.
    #: Both chosen by cross-validation on data/frustration_examples.csv with
    #: `python -m tools.evaluation.tune_frustration`: the shop reading may take at most 2% of the
    #: general examples for shop messages; the unhappy threshold maximises F1 on the shop
    #: examples together with the rules, a calm example counting twice.
    learned: float = 0.55
    learned_min_shop: float = 0.54
    learned_min_unhappy: float = 0.66
    #: The polite-complaint signals together add at most this: below the escalation's
    #: `clearly_frustrated`, so they soften the tone and add up over the conversation.
    polite_complaint_cap: float = 0.7
    #: Added for every further cue of a kind already counted (diminishing evidence).
    extra_cue: float = 0.15
    #: Weight of VADER's negativity: weight * max(0, -compound - sentiment_floor).
    sentiment: float = 0.6
    #: VADER compound scores above -floor count as neutral (mildly negative support
    #: questions such as "I lost my password" must not add up to frustration).
    sentiment_floor: float = 0.2
    #: A run of at least two words in capital letters.
    shouting: float = 0.3
    #: "!!", "!!!", "?!"; and, weaker, "??".
    exclamations: float = 0.2
    question_marks: float = 0.1


FRUSTRATION = FrustrationThresholds()


# --- escalation (actions/escalation.py) -------------------------------------------------


@dataclass(frozen=True)
class EscalationThresholds:
    """When the conversation as a whole goes to a person.

    The message-level frustration threshold is measured (`make eval-frustration`); these
    conversation-level values are design choices checked by the action tests and
    tests/test_stories.yml: a second failure in a row, a second "no, that didn't help",
    or two clearly upset messages bring in a person.
    """

    #: One message this frustrated hands off at once (e.g. "this is useless!!!").
    clearly_frustrated: float = 0.8
    #: Messages scoring at least this add their score to the conversation's level.
    counted_message: float = 0.3
    #: The conversation's level is multiplied by this at every customer message.
    decay: float = 0.8
    #: Hand off when the level reaches this.
    conversation: float = 1.0
    #: Added to the level when the assistant fails to understand again in a row.
    repeated_failure: float = 0.25
    #: Added when the customer asks the question that was just answered.
    same_question: float = 0.3
    #: Added when the customer says an answer did not help.
    unhelpful: float = 0.3
    #: Clarify once; hand off (low_confidence) at this many failures in a row.
    max_failures: int = 2
    #: Hand off (unhelpful_answer) at this many "that didn't help" in a session.
    max_unhelpful: int = 2
    #: Ask "did that help?" after the first FAQ answer, then after every this many.
    feedback_every: int = 3


ESCALATION = EscalationThresholds()
