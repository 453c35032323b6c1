"""handoff/messages.py: the chat's wording from shop.yml, and `make validate`'s check of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from handoff.messages import RUNTIME_PLACEHOLDERS, MessagesError, check_messages, load_messages
from tests.helpers import ROOT, check_data, project_copy


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A copy of the project's shop file that a test may edit."""
    copy = tmp_path / "shop.yml"
    shutil.copy(ROOT / "shop.yml", copy)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if needle in line)


def test_the_project_wording_loads_with_the_shop_name_filled_in():
    wording = load_messages(ROOT / "shop.yml")
    assert set(wording.texts) == set(RUNTIME_PLACEHOLDERS)
    assert wording.shop_name == "Larkspur & Co."
    assert "This is the Larkspur & Co. chat." in wording.say("unavailable_at_start")
    assert "{" not in wording.say("busy_at_start")
    assert wording.say("agent_joined", name="Alice Moreno") == "Alice Moreno joined the chat."


def test_a_trainer_edit_reaches_the_customer_with_the_shops_facts(shop):
    edit(shop, "shop_name: Larkspur & Co.", "shop_name: Fern {and} Moss")
    edit(shop, "bot_back: The assistant is back.", "bot_back: Welcome back to {shop_name}!")
    wording = load_messages(shop)
    # A fact is inserted as it is: braces in it are not read as placeholders again.
    assert wording.say("bot_back") == "Welcome back to Fern {and} Moss!"
    assert "This is the Fern {and} Moss chat." in wording.say("busy_at_start")


def test_the_customers_text_is_quoted_as_it_is(shop):
    said = load_messages(shop).say("missed", text="50% off {shop_name}?")
    assert 'missed your message "50% off {shop_name}?"' in said


def test_an_unknown_placeholder_is_refused_naming_file_and_line(shop):
    edit(shop, "bot_back: The assistant is back.", "bot_back: The assistant is back, {name}.")
    edit(shop, 'agent_joined: "{name} joined', 'agent_joined: "{agent} joined')
    problems = check_messages(shop)
    assert len(problems) == 2, problems
    assert problems[0].startswith(f"{shop}:{line_of(shop, 'bot_back:')}: ")
    assert "'bot_back' uses {name}" in problems[0]
    assert problems[1].startswith(f"{shop}:{line_of(shop, 'agent_joined:')}: ")
    assert "{agent}" in problems[1] and "name" in problems[1]
    with pytest.raises(MessagesError, match="bot_back"):
        load_messages(shop)


def test_missing_unknown_and_broken_messages_are_named(shop):
    edit(shop, "  bot_back: The assistant is back.\n", "  bot_bak: The assistant is back.\n")
    edit(shop, 'choose: "Please choose:"', 'choose: "Please {choose:"')
    problems = "\n".join(check_messages(shop))
    assert f":{line_of(shop, 'bot_bak:')}: unknown message 'bot_bak'" in problems
    assert "message 'bot_back' is missing" in problems
    assert f":{line_of(shop, 'choose:')}: message 'choose'" in problems


def test_a_shop_file_without_messages_is_refused(tmp_path):
    shop = tmp_path / "shop.yml"
    shop.write_text("shop:\n  shop_name: X\n  support_email: a@b.example\n", encoding="utf-8")
    assert check_messages(shop) == [
        f"{shop}: no 'messages' section (a mapping of message name to text)"
    ]
    assert "not found" in check_messages(tmp_path / "none.yml")[0]


def test_make_validate_refuses_an_unknown_placeholder(tmp_path):
    """`python -m tools.content.check_data` (part of `make validate`) on a project copy."""
    shop = project_copy(tmp_path) / "shop.yml"
    edit(shop, 'choose: "Please choose:"', 'choose: "Please choose, {customer}:"')
    run = check_data(tmp_path)
    assert run.returncode == 1
    assert f"shop.yml:{line_of(shop, 'choose:')}: message 'choose' uses {{customer}}" in run.stderr


def test_braces_in_facts_and_in_runtime_values_stay_as_they_are(shop):
    edit(shop, "shop_name: Larkspur & Co.", "shop_name: Fern {and} Moss")
    edit(
        shop,
        'agent_joined: "{name} joined the chat."',
        'agent_joined: "{name} of {shop_name} joined {{you}}."',
    )
    wording = load_messages(shop)
    assert wording.say("agent_joined", name="Al {x}") == "Al {x} of Fern {and} Moss joined {you}."
