"""Support hours from ``shop.yml``: is a person answering now, and if not, when?

Pure functions of a timezone-aware ``now`` so tests pass a fixed clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Tuple

import yaml
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Window = Tuple[dt.time, dt.time]
# A year and a bit covers any realistic run of holidays and closed days.
_SEARCH_DAYS = 400


class HoursError(ValueError):
    """The ``support_hours`` section is missing or malformed."""


@dataclass(frozen=True)
class OfficeHours:
    """A weekly schedule in one timezone, minus holidays."""

    timezone: ZoneInfo
    weekly: Mapping[int, tuple[Window, ...]]
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    summary: str = ""

    def is_open(self, now: dt.datetime) -> bool:
        """True when ``now`` (timezone-aware) falls inside an opening window."""
        local = _localise(now, self.timezone)
        return any(start <= local.time() < end for start, end in self._windows(local.date()))

    def next_opening(self, now: dt.datetime) -> dt.datetime | None:
        """The next moment support opens (``now`` itself when open), or None if never."""
        if self.is_open(now):
            return now
        local = _localise(now, self.timezone)
        for offset in range(_SEARCH_DAYS):
            day = local.date() + dt.timedelta(days=offset)
            for start, _end in self._windows(day):
                opening = dt.datetime.combine(day, start, tzinfo=self.timezone)
                if opening > local:
                    return opening
        return None

    def closing_time(self, now: dt.datetime) -> dt.datetime | None:
        """When the current opening window ends, or None when closed now."""
        local = _localise(now, self.timezone)
        for start, end in self._windows(local.date()):
            if start <= local.time() < end:
                return dt.datetime.combine(local.date(), end, tzinfo=self.timezone)
        return None

    def _windows(self, day: dt.date) -> tuple[Window, ...]:
        if day in self.holidays:
            return ()
        return self.weekly.get(day.weekday(), ())


def _localise(now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(zone)


def _parse_windows(day: str, value: Any, source: str) -> tuple[Window, ...]:
    if value is None or str(value).strip().lower() == "closed":
        return ()
    windows: list[Window] = []
    for part in str(value).split(","):
        try:
            start_s, end_s = part.strip().split("-")
            start = dt.time.fromisoformat(start_s.strip())
            # "24:00" is how people write "until midnight"; datetime has no such time.
            end_s = end_s.strip()
            end = dt.time.max if end_s in ("24:00", "24:00:00") else dt.time.fromisoformat(end_s)
        except ValueError:
            raise HoursError(
                f"{source}: support_hours.weekly.{day} must be 'HH:MM-HH:MM' or "
                f"'closed', got {value!r}"
            ) from None
        if not start < end:
            raise HoursError(f"{source}: support_hours.weekly.{day} ends before it starts")
        windows.append((start, end))
    return tuple(sorted(windows))


def parse_hours(section: Mapping[str, Any], source: str = "shop.yml") -> OfficeHours:
    """Build :class:`OfficeHours` from a ``support_hours`` mapping."""
    if not isinstance(section, Mapping):
        raise HoursError(f"{source}: support_hours must be a mapping")
    try:
        zone = ZoneInfo(str(section.get("timezone", "UTC")))
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(f"{source}: unknown timezone {section.get('timezone')!r}") from None
    weekly_raw = section.get("weekly") or {}
    if not isinstance(weekly_raw, Mapping):
        raise HoursError(f"{source}: support_hours.weekly must be a mapping")
    unknown = set(weekly_raw) - set(WEEKDAYS)
    if unknown:
        raise HoursError(f"{source}: unknown weekday(s) {sorted(unknown)} in support_hours")
    weekly: dict[int, tuple[Window, ...]] = {
        index: _parse_windows(day, weekly_raw.get(day, "closed"), source)
        for index, day in enumerate(WEEKDAYS)
    }
    holidays = set()
    for item in section.get("holidays") or []:
        try:
            holidays.add(item if isinstance(item, dt.date) else dt.date.fromisoformat(str(item)))
        except ValueError:
            raise HoursError(f"{source}: holiday {item!r} is not a YYYY-MM-DD date") from None
    return OfficeHours(zone, weekly, frozenset(holidays), str(section.get("summary", "")))


def load_hours(path: str | Path) -> OfficeHours:
    """Read the ``support_hours`` section of a shop file such as ``shop.yml``."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise HoursError(f"{path}: file not found (set HANDOFF_SHOP_FILE)") from None
    except yaml.YAMLError as error:
        raise HoursError(f"{path}: invalid YAML: {error}") from None
    if "support_hours" not in document:
        raise HoursError(f"{path}: no support_hours section")
    return parse_hours(document["support_hours"], str(path))


ALWAYS_OPEN = OfficeHours(
    ZoneInfo("UTC"),
    {index: ((dt.time(0, 0), dt.time(23, 59, 59, 999999)),) for index in range(7)},
    summary="around the clock",
)
