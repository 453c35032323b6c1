"""Unit tests of the learned reader of unhappy shop customers (actions/frustration_model.py)
and of how the detector uses it.

The sentences here are written for these tests (not taken from any evaluation data).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.frustration import FrustrationDetector
from actions.frustration_model import (
    EXAMPLES_PATH,
    ComplaintModel,
    Example,
    ExamplesError,
    get_model,
    read_examples,
)
from actions.thresholds import ESCALATION, FRUSTRATION

SHOP_UNHAPPY = [
    "I've waited three weeks for my parcel and nobody answers my emails.",
    "You promised my refund last Monday and it still hasn't come.",
    "Second time you've sent the wrong size, I'm fed up with this order.",
    "The courier lost my package and your support keeps ignoring me.",
    "I've asked about my refund four times now, this is taking forever.",
    "My order is two weeks late and every reply is the same template.",
]
SHOP_CALM = [
    "Can I return a jumper that doesn't fit?",
    "What's the delivery time to Spain?",
    "My order number is 55120, when will it ship?",
    "Could you change the delivery address on my order?",
    "How long does a refund take to reach my card?",
    "Do you have the blue coat in a medium?",
]
GENERAL_UNHAPPY = [
    "The referee ruined the whole match, what a joke.",
    "My neighbour's dog barks all night and I'm losing my mind.",
    "This game update broke everything again, so annoying.",
    "People who talk in the cinema drive me up the wall.",
]
GENERAL_CALM = [
    "The museum opens at ten on Sundays.",
    "I think the sequel comes out next spring.",
    "Our cat likes to sleep on the radiator.",
    "The hike took about four hours with breaks.",
]


def _examples() -> list[Example]:
    return (
        [Example(t, True, "shop") for t in SHOP_UNHAPPY]
        + [Example(t, False, "shop") for t in SHOP_CALM]
        + [Example(t, True, "general") for t in GENERAL_UNHAPPY]
        + [Example(t, False, "general") for t in GENERAL_CALM]
    )


@pytest.fixture(scope="module")
def small_model() -> ComplaintModel:
    return ComplaintModel().fit(_examples())


# --- the model ------------------------------------------------------------------------------
def test_reads_a_shop_complaint_as_unhappy_and_a_shop_question_as_calm(
    small_model: ComplaintModel,
) -> None:
    complaint = small_model.read("Three weeks waiting for my refund and nobody answers me.")
    question = small_model.read("When will my order ship? The number is 41200.")
    assert complaint.unhappy > 0.5 > question.unhappy, (complaint, question)
    assert complaint.shop > 0.5 and question.shop > 0.5, (complaint, question)


def test_reads_general_talk_as_not_a_shop_message(small_model: ComplaintModel) -> None:
    reading = small_model.read("I think the museum cat sleeps on the radiator.")
    assert reading.shop < 0.5, reading


def test_readings_are_probabilities_in_label_order(small_model: ComplaintModel) -> None:
    assert small_model.labels == sorted(small_model.labels)
    rows = small_model.distribution(["hello", "my parcel never came"])
    assert rows.shape == (2, 4)
    assert all(abs(sum(row) - 1.0) < 1e-9 for row in rows)
    for reading in small_model.read_many(["hello", "my parcel never came"]):
        assert 0.0 <= reading.shop <= 1.0 and 0.0 <= reading.unhappy <= 1.0
    assert small_model.read_many([]) == []


def test_unfitted_model_refuses_to_read() -> None:
    model = ComplaintModel()
    assert not model.is_fitted
    with pytest.raises(RuntimeError, match="fit"):
        model.read("where is my order")


def test_fit_needs_every_domain_and_mood() -> None:
    only_shop = [e for e in _examples() if e.domain == "shop"]
    with pytest.raises(ValueError, match="every label"):
        ComplaintModel().fit(only_shop)


# --- the examples file ----------------------------------------------------------------------
def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "examples.csv"
    path.write_text(body, encoding="utf-8")
    return path


_GOOD = (
    "text,label,source\n"
    "where is my parcel,calm,written-shop\n"
    "third time asking for my refund!,frustrated,written-shop\n"
    "nice weather today,calm,written-general\n"
    "this referee is a joke,frustrated,written-general\n"
)


def test_read_examples_reads_text_mood_and_domain(tmp_path: Path) -> None:
    examples = read_examples(_write(tmp_path, _GOOD))
    assert examples[1] == Example("third time asking for my refund!", True, "shop")
    assert [e.label for e in examples] == [
        "shop-calm",
        "shop-frustrated",
        "general-calm",
        "general-frustrated",
    ]


@pytest.mark.parametrize(
    "body, message",
    [
        (_GOOD.replace("calm,written-shop", "cross,written-shop"), ":2: label must be"),
        (_GOOD.replace("calm,written-shop", "calm,written-forum"), ":2: source must end"),
        (_GOOD.replace("where is my parcel", "  "), ":2: empty text"),
        (_GOOD.replace("text,label,source", "text,label"), ":1: missing column(s) source"),
        ("\n".join(_GOOD.splitlines()[:3]) + "\n", "no examples labelled general-frustrated"),
    ],
)
def test_read_examples_names_the_file_and_line_of_a_problem(
    tmp_path: Path, body: str, message: str
) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ExamplesError) as error:
        read_examples(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_read_examples_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ExamplesError, match="not found"):
        read_examples(tmp_path / "nothing.csv")


def test_the_shipped_examples_are_broad() -> None:
    """The training set covers both domains and moods with enough examples each."""
    examples = read_examples(EXAMPLES_PATH)
    counts = {label: 0 for label in ("shop-calm", "shop-frustrated", "general-calm")}
    counts["general-frustrated"] = 0
    for e in examples:
        counts[e.label] += 1
    assert len(examples) >= 1000 and min(counts.values()) >= 100, counts
    assert len({e.text for e in examples}) == len(examples), "duplicate examples"


# --- the detector with the reader ------------------------------------------------------------
def test_detector_counts_the_reader_as_a_polite_complaint(small_model: ComplaintModel) -> None:
    detector = FrustrationDetector(complaint_model=small_model)
    # The rules read only a long wait here: mild, not upset on its own.
    text = "Three weeks waiting for my refund and the emails go unanswered."
    result = detector.score(text)
    assert any(cue.startswith("learned: unhappy customer") for cue in result.cues), result
    assert result.is_frustrated
    # Alone it softens the tone and adds up; it never hands off at once.
    assert result.score < ESCALATION.clearly_frustrated, result
    rules_only = FrustrationDetector(learned=False).score(text)
    assert not any(cue.startswith("learned") for cue in rules_only.cues)
    assert not rules_only.is_frustrated, rules_only


def test_detector_ignores_the_reader_outside_shop_messages(small_model: ComplaintModel) -> None:
    detector = FrustrationDetector(complaint_model=small_model)
    reading = small_model.read("My neighbour's dog barks all night, I'm losing my mind.")
    assert reading.shop < FRUSTRATION.learned_min_shop, reading
    result = detector.score("My neighbour's dog barks all night, I'm losing my mind.")
    assert not any(cue.startswith("learned") for cue in result.cues), result


def test_shared_model_is_trained_once_on_the_shipped_examples() -> None:
    model = get_model()
    assert model is get_model() and model.is_fitted
    polite = model.read("I was promised a call back on Tuesday and nobody has rung me since.")
    calm = model.read("Could you tell me if the green scarf is back in stock?")
    assert polite.shop >= FRUSTRATION.learned_min_shop
    assert polite.unhappy >= FRUSTRATION.learned_min_unhappy > calm.unhappy, (polite, calm)


def test_make_validate_reports_a_bad_example_with_file_and_line(tmp_path: Path) -> None:
    from tools.content.check_data import Report, frustration_examples

    report = Report()
    frustration_examples(_write(tmp_path, _GOOD.replace("calm,written-general", "calm,")), report)
    assert len(report.problems) == 1
    problem = "examples.csv:4: source must end in -shop or -general, got ''"
    assert report.problems[0].endswith(problem), report.problems


def test_a_zero_weight_switches_the_reader_off(small_model: ComplaintModel) -> None:
    import dataclasses

    off = dataclasses.replace(FRUSTRATION, learned=0.0)
    detector = FrustrationDetector(thresholds=off, complaint_model=small_model)
    result = detector.score("Three weeks waiting for my refund and the emails go unanswered.")
    assert not any(cue.startswith("learned") for cue in result.cues), result


def test_a_fitted_reader_is_kept_and_read_back_until_the_examples_change(
    tmp_path: Path,
) -> None:
    from actions.frustration_model import cache_path, load_or_fit

    examples = tmp_path / "examples.csv"
    rows = [
        ("Where is my parcel, you promised it last week!", "frustrated", "written-shop"),
        ("Third e-mail and still no refund.", "frustrated", "written-shop"),
        ("Can I change the delivery address?", "calm", "written-shop"),
        ("How do I return a jumper?", "calm", "written-shop"),
        ("This traffic is driving me mad", "frustrated", "written-general"),
        ("Ugh, my laptop crashed again", "frustrated", "written-general"),
        ("Lovely weather for a walk today", "calm", "written-general"),
        ("We had pasta for dinner", "calm", "written-general"),
    ]
    examples.write_text(
        "text,label,source\n" + "".join(f'"{t}",{label},{src}\n' for t, label, src in rows),
        encoding="utf-8",
    )
    cache = tmp_path / "cache"
    first = load_or_fit(examples, cache)
    kept = cache_path(examples, cache)
    assert kept.is_file()
    again = load_or_fit(examples, cache)
    assert again is not first  # read from the file, not trained in this call
    assert again.read("Third e-mail and still no refund.") == first.read(
        "Third e-mail and still no refund."
    )
    # A damaged file is trained over, never trusted.
    kept.write_bytes(b"not a pickle")
    assert load_or_fit(examples, cache).is_fitted
    # Changed examples: another file, trained anew.
    examples.write_text(
        examples.read_text(encoding="utf-8") + '"Still waiting!",frustrated,written-shop\n',
        encoding="utf-8",
    )
    assert cache_path(examples, cache) != kept
