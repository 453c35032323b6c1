"""Office hours from shop.yml, with a fixed clock."""

import datetime as dt
from pathlib import Path

import pytest
from zoneinfo import ZoneInfo

from handoff.hours import HoursError, load_hours, parse_hours
from handoff.settings import PROJECT_ROOT

LONDON = ZoneInfo("Europe/London")
SECTION = {
    "timezone": "Europe/London",
    "weekly": {
        "mon": "09:00-18:00",
        "tue": "09:00-18:00",
        "wed": "09:00-18:00",
        "thu": "09:00-18:00",
        "fri": "09:00-17:00",
        "sat": "10:00-14:00",
        "sun": "closed",
    },
    "holidays": ["2026-12-25", "2026-12-26", "2027-01-01"],
    "summary": "weekdays",
}


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


@pytest.fixture
def hours():
    return parse_hours(SECTION)


@pytest.mark.parametrize(
    "moment, expected",
    [
        (at(2026, 11, 25, 9, 0), True),  # Wednesday opening minute
        (at(2026, 11, 25, 8, 59), False),
        (at(2026, 11, 25, 17, 59), True),
        (at(2026, 11, 25, 18, 0), False),  # closing time is exclusive
        (at(2026, 11, 27, 17, 30), False),  # Friday closes at 17:00
        (at(2026, 11, 28, 11, 0), True),  # Saturday morning
        (at(2026, 11, 29, 12, 0), False),  # Sunday closed
        (at(2026, 12, 25, 12, 0), False),  # Christmas (a Friday) is a holiday
    ],
)
def test_is_open(hours, moment, expected):
    assert hours.is_open(moment) is expected


def test_is_open_converts_other_timezones(hours):
    # 08:30 UTC in summer is 09:30 in London (BST).
    assert hours.is_open(dt.datetime(2026, 7, 1, 8, 30, tzinfo=dt.timezone.utc))
    # 08:30 UTC in winter is 08:30 in London.
    assert not hours.is_open(dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.timezone.utc))


def test_next_opening_after_friday_close_is_saturday_morning(hours):
    assert hours.next_opening(at(2026, 11, 27, 17, 30)) == at(2026, 11, 28, 10, 0)


def test_next_opening_skips_sunday(hours):
    assert hours.next_opening(at(2026, 11, 28, 15, 0)) == at(2026, 11, 30, 9, 0)


def test_next_opening_skips_holidays(hours):
    # Thursday 24 Dec evening: 25th (Fri) and 26th (Sat) are holidays, 27th is Sunday.
    assert hours.next_opening(at(2026, 12, 24, 19, 0)) == at(2026, 12, 28, 9, 0)


def test_next_opening_when_open_is_now(hours):
    now = at(2026, 11, 25, 10, 0)
    assert hours.next_opening(now) == now
    assert hours.closing_time(now) == at(2026, 11, 25, 18, 0)


def test_naive_time_is_refused(hours):
    with pytest.raises(ValueError):
        hours.is_open(dt.datetime(2026, 11, 25, 10, 0))


def test_never_open_schedule_has_no_next_opening():
    closed = parse_hours({"timezone": "UTC", "weekly": {d: "closed" for d in SECTION["weekly"]}})
    assert closed.next_opening(at(2026, 11, 25, 10, 0)) is None


@pytest.mark.parametrize(
    "change, message",
    [
        ({"weekly": {"mon": "9-5"}}, "weekly.mon"),
        ({"weekly": {"mon": "18:00-09:00"}}, "ends before it starts"),
        ({"weekly": {"funday": "09:00-10:00"}}, "unknown weekday"),
        ({"timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"holidays": ["christmas"]}, "holiday"),
    ],
)
def test_malformed_sections_name_the_problem(change, message):
    with pytest.raises(HoursError, match=message):
        parse_hours({**SECTION, **change}, "shop.yml")


def test_the_project_shop_file_loads():
    hours = load_hours(PROJECT_ROOT / "shop.yml")
    assert str(hours.timezone) == "Europe/London"
    assert hours.summary


def test_missing_and_broken_files_are_named(tmp_path: Path):
    with pytest.raises(HoursError, match="not found"):
        load_hours(tmp_path / "nope.yml")
    broken = tmp_path / "shop.yml"
    broken.write_text("support_hours: [unclosed\n")
    with pytest.raises(HoursError, match="invalid YAML"):
        load_hours(broken)
    broken.write_text("shop: {}\n")
    with pytest.raises(HoursError, match="no support_hours"):
        load_hours(broken)


def test_until_midnight_can_be_written_24_00():
    always = parse_hours(
        {
            "timezone": "UTC",
            "weekly": {d: "00:00-24:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        }
    )
    utc = dt.timezone.utc
    assert always.is_open(dt.datetime(2026, 11, 29, 23, 59, 59, tzinfo=utc))
    assert always.is_open(dt.datetime(2026, 11, 30, 0, 0, tzinfo=utc))
