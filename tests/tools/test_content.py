"""`make validate`: the content checks find a trainer's mistakes and say where they are."""

import shutil
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tools.content.check_data import check
from tools.content.validate import responses_spoken_by_actions, validate


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's content that a test may break."""
    for name in ("config.yml", "domain.yml", "endpoints.yml", "topics.yml", "shop.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copytree(
        ROOT / "actions", tmp_path / "actions", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "bot" / "locales", tmp_path / "bot" / "locales")
    return tmp_path


def test_a_widget_word_with_a_wrong_placeholder_is_named(project):
    edit(project / "bot" / "locales" / "en.json", '"Rate {score} out of 5"', '"Rate it"')
    (project / "bot" / "locales" / "he.json").write_text(
        '{"_language": {"name": "Hebrew", "dir": "rtl"}, "rate_aria": "{score}/5 {sccore}"}'
    )
    problems = "\n".join(check(project).problems)
    assert 'he.json: "rate_aria" must use the placeholders {none}' in problems


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_the_project_content_passes(project):
    assert check(project).problems == []


def test_yaml_syntax_error_names_the_file_and_line(project):
    nlu = project / "data" / "nlu.yml"
    lines = nlu.read_text().splitlines()
    lines[6] = "  examples: | : ["  # line 7
    nlu.write_text("\n".join(lines) + "\n")
    problems = check(project).problems
    assert any(
        p.startswith(f"{nlu}:7: invalid YAML") or ":7: invalid YAML" in p for p in problems
    ), problems
    assert any("nlu.yml" in p for p in problems)


def test_faq_with_too_few_examples_is_reported(project):
    # Keep 5 examples of faq/exchange in nlu.yml and none in the other training files.
    for nlu in sorted((project / "data").glob("nlu*.yml")):
        text = nlu.read_text()
        if "- intent: faq/exchange" not in text:
            continue
        start = text.index("- intent: faq/exchange")
        end = text.index("- intent:", start + 1)
        block = text[start:end].splitlines()
        kept = block[: 2 + 5] if nlu.name == "nlu.yml" else []
        nlu.write_text(text[:start] + "\n".join(kept) + "\n\n" + text[end:])
    problems = check(project).problems
    assert any("faq/exchange has 5 training examples; at least 12" in p for p in problems), problems


def test_faq_without_answer_is_reported(project):
    edit(project / "domain.yml", "utter_faq/exchange:", "utter_faq/exchange_old:")
    problems = check(project).problems
    assert any("faq/exchange has no answer" in p for p in problems), problems


def test_intent_without_topic_is_reported(project):
    edit(project / "topics.yml", "  thanks: other\n", "")
    problems = check(project).problems
    assert any("intent thanks" in p and "has no topic" in p for p in problems), problems


def test_faq_missing_from_the_catalogue_is_reported(project):
    edit(project / "topics.yml", '  exchange: {topic: returns_refund, title: "Exchanges"}\n', "")
    problems = check(project).problems
    assert any("faq/exchange" in p and "not in the faq catalogue" in p for p in problems), problems


def test_unknown_placeholder_is_reported(project):
    edit(
        project / "domain.yml",
        "{return_window_days} days of delivery, as long as",
        "{return_days} days of delivery, as long as",
    )
    problems = check(project).problems
    assert any("{return_days}" in p and "shop.yml does not define" in p for p in problems), problems


def test_placeholder_in_a_rule_response_is_reported(project):
    edit(
        project / "domain.yml", "Hello! What can I help you with today?", "Hello from {shop_name}!"
    )
    problems = check(project).problems
    assert any("utter_greet uses {shop_name}" in p for p in problems), problems


def test_example_starting_with_a_slash_is_reported(project):
    edit(project / "data" / "nlu.yml", "    - what is your return policy\n", "    - /restart\n")
    problems = check(project).problems
    assert any("starts with '/'" in p for p in problems), problems


def test_responses_spoken_by_actions_are_found_in_the_code():
    spoken = responses_spoken_by_actions(ROOT / "actions")
    assert {"utter_disclosure", "utter_clarify", "utter_faq", "utter_handoff"} <= spoken


def test_rasa_validation_passes_on_the_project():
    assert validate(ROOT) == []


def test_rasa_validation_reports_an_example_under_two_intents(project):
    edit(
        project / "data" / "nlu.yml",
        "- intent: thanks\n  examples: |\n",
        "- intent: thanks\n  examples: |\n    - invoice\n",
    )
    problems = validate(project)
    assert any("'invoice'" in p and "multiple different intents" in p for p in problems), problems


def test_an_example_under_two_faq_answers_is_reported(project):
    # Rasa sees both as the intent `faq` and says nothing; the answer choice gets confused.
    edit(
        project / "data" / "nlu.yml",
        "    - what is your return policy\n",
        "    - what is your return policy\n    - invoice\n",
    )
    problems = check(project).problems
    assert any(
        "'invoice'" in p and "faq/returns_policy" in p and "faq/invoice" in p for p in problems
    ), problems
