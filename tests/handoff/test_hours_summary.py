"""handoff/hours_summary.py: the hours in words for hours edited in the desk, every word
from the shop file's messages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from handoff.hours import parse_hours
from handoff.hours_summary import describe
from handoff.messages import check_messages, load_messages
from tests.helpers import ROOT

CLOSED = {day: "closed" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def said(weekly: dict[str, str], timezone: str = "Europe/London", shop: Path = ROOT / "shop.yml"):
    hours = parse_hours({"timezone": timezone, "weekly": {**CLOSED, **weekly}})
    return describe(hours, load_messages(shop))


def test_the_shops_own_schedule_reads_like_its_summary():
    weekly = {day: "09:00-18:00" for day in ("mon", "tue", "wed", "thu")}
    weekly.update(fri="09:00-17:00", sat="10:00-14:00")
    assert said(weekly) == (
        "Monday to Thursday 9:00-18:00, Friday 9:00-17:00 and Saturday 10:00-14:00 "
        "(Europe/London time)"
    )


def test_only_days_in_a_row_with_the_same_hours_are_joined():
    weekly = {"mon": "09:00-17:00", "tue": "10:00-17:00", "wed": "09:00-17:00"}
    weekly.update(sat="10:00-12:00", sun="10:00-12:00")
    assert said(weekly, "UTC") == (
        "Monday 9:00-17:00, Tuesday 10:00-17:00, Wednesday 9:00-17:00 and "
        "Saturday to Sunday 10:00-12:00 (UTC time)"
    )


def test_a_day_with_a_break_and_an_evening_until_midnight():
    assert said({"fri": "13:00-24:00, 08:30-12:00"}, "UTC") == (
        "Friday 8:30-12:00 and 13:00-24:00 (UTC time)"
    )


def test_a_week_with_every_day_closed_says_so_honestly():
    wording = load_messages(ROOT / "shop.yml")
    assert said({}) == wording.say("hours_none")
    assert said({}).startswith("only by message")


def test_a_shop_in_another_language_changes_the_words_in_its_shop_file(tmp_path):
    shop = tmp_path / "shop.yml"
    shutil.copy(ROOT / "shop.yml", shop)
    text = shop.read_text(encoding="utf-8")
    for old, new in [
        ("day_mon: Monday", "day_mon: lundi"),
        ("day_fri: Friday", "day_fri: vendredi"),
        ("day_sat: Saturday", "day_sat: samedi"),
        ('hours_day_range: "{first} to {last}"', 'hours_day_range: "du {first} au {last}"'),
        ('hours_list: "{items} and {last}"', 'hours_list: "{items} et {last}"'),
        ('hours_summary: "{days} ({timezone} time)"', 'hours_summary: "{days} (heure {timezone})"'),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    shop.write_text(text, encoding="utf-8")
    weekly = {day: "09:00-18:00" for day in ("mon", "tue", "wed", "thu", "fri")}
    weekly["sat"] = "10:00-13:00"
    assert said(weekly, "Europe/Paris", shop) == (
        "du lundi au vendredi 9:00-18:00 et samedi 10:00-13:00 (heure Europe/Paris)"
    )


@pytest.mark.parametrize("message", ["support_hours_note", "offline_no_agents"])
def test_a_message_may_not_bake_in_the_files_hours(tmp_path, message):
    # Filled at start-up, {support_hours} would still say the file's hours after an edit
    # in the desk: the note takes the hours in service as {hours} when it is sent.
    shop = tmp_path / "shop.yml"
    shutil.copy(ROOT / "shop.yml", shop)
    text = shop.read_text(encoding="utf-8")
    start = text.index(f"  {message}:")
    end = text.index("\n  ", start + 1)
    while text[end + 3] == " ":  # a folded text goes on over indented lines
        end = text.index("\n  ", end + 1)
    shop.write_text(
        text[:start] + f'  {message}: "Open {{support_hours}}."' + text[end:], encoding="utf-8"
    )
    problems = check_messages(shop)
    assert len(problems) == 1, problems
    assert f"message '{message}' uses {{support_hours}}" in problems[0]
