"""Unit tests of the per-message frustration detector (actions/frustration.py).

The sentences here are written for these tests (not taken from any evaluation data).
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from actions.frustration import FrustrationDetector, FrustrationResult, get_detector
from actions.thresholds import FRUSTRATION, FrustrationThresholds

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def detector() -> FrustrationDetector:
    return get_detector()


def _kinds(result: FrustrationResult) -> tuple[str, ...]:
    return tuple(cue.split(":")[0].split(" (")[0] for cue in result.cues)


# --- cues ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, kind",
    [
        ("Your chatbot is completely useless.", "insult"),
        ("Are you an idiot or a machine?", "insult"),
        ("Talking to this thing is a waste of time.", "complaint"),
        ("Stop wasting my time and fix it", "complaint"),
        ("I already told you the order number, it's on the receipt", "repetition"),
        ("For the third time: the invoice address is wrong", "repetition"),
        ("I have asked again and again where my money is", "repetition"),
        ("Where the hell is my refund", "swearing"),
        ("This shit still doesn't work", "swearing"),
        ("Honestly this is ridiculous", "complaint"),
        ("A four week delivery time is unacceptable", "complaint"),
        ("That answer doesn't help at all", "complaint"),
        ("You are not helping me", "complaint"),
        ("I want to speak to a manager right now", "wants a manager"),
        ("I am really annoyed with this shop", "anger"),
    ],
)
def test_cue_is_found_and_message_is_frustrated(
    detector: FrustrationDetector, text: str, kind: str
) -> None:
    result = detector.score(text)
    assert kind in _kinds(result), result.cues
    assert result.is_frustrated, result


def test_cue_names_the_matched_words(detector: FrustrationDetector) -> None:
    result = detector.score("what a waste of time, you are useless")
    assert "complaint: waste of time" in result.cues
    assert "insult: useless" in result.cues


def test_contraction_shows_as_written(detector: FrustrationDetector) -> None:
    result = detector.score("this doesn't help me")
    assert "complaint: doesn't help" in result.cues


# --- negation ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "not bad at all",
        "I'm not angry, just asking",
        "I am not annoyed, I only want to know when it ships",
        "Never mind, it's not a big deal",
    ],
)
def test_negated_cues_are_calm(detector: FrustrationDetector, text: str) -> None:
    result = detector.score(text)
    assert not result.is_frustrated, result
    assert not any(k in ("anger", "complaint", "insult") for k in _kinds(result)), result


# --- shouting and punctuation --------------------------------------------------------------
def test_shouting_is_a_cue(detector: FrustrationDetector) -> None:
    result = detector.score("THIS IS RIDICULOUS")
    assert any(cue.startswith("shouting") for cue in result.cues), result.cues
    assert result.is_frustrated


@pytest.mark.parametrize(
    "text",
    [
        "my UPS tracking number is 1Z 999",
        "I forgot the PIN of my card",
        "Can I pay with PayPal in the EU?",
    ],
)
def test_single_acronym_is_not_shouting(detector: FrustrationDetector, text: str) -> None:
    result = detector.score(text)
    assert not any(cue.startswith("shouting") for cue in result.cues), result.cues
    assert not result.is_frustrated


def test_shouting_adds_to_the_score(detector: FrustrationDetector) -> None:
    calm = detector.score("where is my parcel")
    loud = detector.score("WHERE IS MY PARCEL")
    assert loud.score > calm.score


@pytest.mark.parametrize(
    "text, run",
    [("Where is my order!!!", "!!!"), ("Seriously?!", "?!"), ("Hello??? anyone there???", "???")],
)
def test_repeated_punctuation_is_a_cue(detector: FrustrationDetector, text: str, run: str) -> None:
    result = detector.score(text)
    assert f"repeated punctuation: {run}" in result.cues, result.cues
    assert result.score > 0


def test_punctuation_alone_is_not_frustration(detector: FrustrationDetector) -> None:
    assert not detector.score("Thanks so much!!").is_frustrated


def test_signals_add_up(detector: FrustrationDetector) -> None:
    # No single pattern cue here: shouting, "!!!" and negative wording together tip it.
    result = detector.score("WHY IS EVERYTHING SO SLOW AND BAD!!!")
    assert {"negative sentiment", "shouting", "repeated punctuation"} <= set(_kinds(result))
    assert result.is_frustrated, result
    quiet = detector.score("why is everything so slow and bad")
    assert quiet.score < result.score


# --- calm support questions with negative words -------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "I lost my password",
        "my parcel arrived damaged",
        "I was charged twice for order 1234",
        "the card was declined",
        "my order is late",
        "the item I received is broken, can I return it?",
        "Why is the payment not going through?",
        "I don't understand how to reset my password",
        "hi, my package is missing from the delivery",
    ],
)
def test_calm_support_questions_stay_calm(detector: FrustrationDetector, text: str) -> None:
    result = detector.score(text)
    assert not result.is_frustrated, result


# --- the result ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "ok",
        "hello there",
        "THIS IS THE WORST, MOST USELESS, RIDICULOUS SHIT EVER!!! I HATE YOU, IDIOTS!!!",
        "?!?!?!?!?!?!?!",
        "x" * 5000,
    ],
)
def test_score_is_within_bounds(detector: FrustrationDetector, text: str) -> None:
    result = detector.score(text)
    assert 0.0 <= result.score <= 1.0
    assert isinstance(result.cues, tuple)


def test_cues_are_short_readable_strings(detector: FrustrationDetector) -> None:
    result = detector.score("WHY IS THIS SO HARD?! You are useless, I already told you twice!!!")
    assert result.cues
    for cue in result.cues:
        assert isinstance(cue, str)
        assert 0 < len(cue) <= 60
        assert cue == cue.strip()
        assert ":" in cue or "(" in cue


def test_negative_sentiment_cue_shows_the_compound(detector: FrustrationDetector) -> None:
    result = detector.score("this is a horrible, awful, miserable experience")
    sentiment = [c for c in result.cues if c.startswith("negative sentiment")]
    assert sentiment and sentiment[0].endswith(")")
    value = float(sentiment[0].split("(")[1].rstrip(")"))
    assert -1.0 <= value < 0


def test_result_is_frozen_and_uses_the_threshold(detector: FrustrationDetector) -> None:
    result = detector.score("you are useless")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.score = 0.0  # type: ignore[misc]
    assert result.threshold == FRUSTRATION.threshold
    assert FrustrationResult(score=FRUSTRATION.threshold).is_frustrated
    assert not FrustrationResult(score=FRUSTRATION.threshold - 0.01).is_frustrated


def test_thresholds_are_configurable() -> None:
    strict = FrustrationDetector(FrustrationThresholds(threshold=1.01))
    assert not strict.score("you are useless and this is ridiculous").is_frustrated


def test_non_text_input_scores_zero(detector: FrustrationDetector) -> None:
    assert detector.score(None).score == 0.0  # type: ignore[arg-type]


def test_scoring_is_fast(detector: FrustrationDetector) -> None:
    import time

    texts = ["I already told you, this is a waste of time!!!", "where is my order?"] * 50
    detector.score("warm-up")
    started = time.perf_counter()
    for text in texts:
        detector.score(text)
    per_message_ms = (time.perf_counter() - started) * 1000 / len(texts)
    assert per_message_ms < 20  # a few ms in practice; generous for a busy machine


# --- laziness -----------------------------------------------------------------------------
def test_constructor_and_getter_are_cheap() -> None:
    fresh = FrustrationDetector()
    assert not fresh.is_loaded
    assert get_detector() is get_detector()


def test_import_does_no_work() -> None:
    """Importing the modules neither builds anything nor imports spaCy, VADER or sklearn."""
    code = textwrap.dedent(
        """
        import sys
        import actions  # the package itself may be imported by anything
        heavy = ("spacy", "vaderSentiment", "sklearn")
        before = {m for m in heavy if m in sys.modules}
        import actions.frustration as f
        import actions.frustration_model as fm
        after = {m for m in heavy if m in sys.modules}
        assert fm._trained_default.cache_info().currsize == 0
        assert after == before, after - before
        assert not f.get_detector().is_loaded
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# --- polite complaints (issue 10) ----------------------------------------------------------
# Written for these tests; the labelled set in tests/data/ is measured by eval_frustration.
@pytest.mark.parametrize(
    "text, kind",
    [
        ("We're on day nineteen now and I have emailed you twice already.", "repeated contact"),
        ("You promised a courier would collect it on Wednesday; nobody came.", "broken promise"),
        ("The refund never arrived and I am now out of pocket.", "loss"),
        ("Oh brilliant, the tracking page crashed as well.", "sarcasm"),
        ("After this, I'll be shopping elsewhere.", "threat to leave"),
        ("I won't be buying from this site again.", "threat to leave"),
        ("I contacted you a fortnight ago and heard nothing back.", "complaint"),
    ],
)
def test_polite_complaints_are_read_as_unhappy(
    detector: FrustrationDetector, text: str, kind: str
) -> None:
    result = detector.score(text)
    assert kind in _kinds(result), result
    assert result.is_frustrated, result


@pytest.mark.parametrize(
    "text",
    [
        "My parcel is running a day behind, no problem at all, just curious.",
        "The return has been with you for a week now, when might the refund come?",
        "I still haven't had the confirmation e-mail, should I wait a bit longer?",
        "Great, thanks, that's sorted it.",
        "Thank you, you've been really helpful today.",
        "Could you resend the verification code please?",
        "What was the name of that returns form again?",
    ],
)
def test_calm_bad_luck_and_thanks_stay_calm(detector: FrustrationDetector, text: str) -> None:
    result = detector.score(text)
    assert not result.is_frustrated, result


def test_mild_signals_add_up_to_unhappy(detector: FrustrationDetector) -> None:
    one = detector.score("It has been 12 days since I ordered.")
    two = detector.score("It has been 12 days since I ordered and I had to write again.")
    assert not one.is_frustrated and two.is_frustrated, (one, two)


def test_a_polite_complaint_alone_never_hands_off_at_once(detector: FrustrationDetector) -> None:
    from actions.thresholds import ESCALATION

    text = (
        "You promised it by Friday, so much for that; it never arrived, I've asked "
        "twice already and I'll be telling all my friends to shop elsewhere."
    )
    result = detector.score(text)
    assert result.is_frustrated
    assert result.score < ESCALATION.clearly_frustrated, result
    # With anger on top, it does.
    assert detector.score(text + " I am furious.").score >= ESCALATION.clearly_frustrated


def test_the_shop_set_is_labelled_and_balanced() -> None:
    from tools.evaluation.eval_frustration import load_rows

    rows = load_rows(REPO_ROOT / "tests" / "data" / "shop_frustration.csv")
    unhappy = sum(label for _, label in rows)
    assert len(rows) >= 300 and abs(unhappy - (len(rows) - unhappy)) <= 10
    assert len({text for text, _ in rows}) == len(rows)
