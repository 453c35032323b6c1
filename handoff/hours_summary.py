"""The sentence that tells customers the support hours, written from the weekly schedule.

Hours an admin edits in the desk are said this way, so the sentence can never disagree
with the schedule the queue follows. Every word comes from the shop file's ``messages``
(``day_mon`` ... ``hours_summary``), so a shop in another language changes the words
there, not here; only times (24-hour ``9:00-18:00``) and the list separator are fixed.
"""

from __future__ import annotations

import datetime as dt

from .hours import WEEKDAYS, OfficeHours, Window
from .messages import Messages


def _time(moment: dt.time) -> str:
    if moment == dt.time.max:  # how parse_hours stores "24:00"
        return "24:00"
    return f"{moment.hour}:{moment.minute:02d}"


def _listed(items: list[str], wording: Messages) -> str:
    """``a``, ``a and b``, ``a, b and c`` (the "and" is the message ``hours_list``)."""
    if len(items) == 1:
        return items[0]
    return wording.say("hours_list", items=", ".join(items[:-1]), last=items[-1])


def _runs(hours: OfficeHours) -> list[tuple[int, int, tuple[Window, ...]]]:
    """Monday to Sunday in runs of days with the same windows: (first, last, windows)."""
    runs: list[tuple[int, int, tuple[Window, ...]]] = []
    for day in range(len(WEEKDAYS)):
        windows = hours.weekly.get(day, ())
        if runs and runs[-1][2] == windows and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day, windows)
        else:
            runs.append((day, day, windows))
    return [run for run in runs if run[2]]


def describe(hours: OfficeHours, wording: Messages) -> str:
    """E.g. "Monday to Friday 9:00-17:00 and Saturday 10:00-14:00 (Europe/London time)";
    the message ``hours_none`` when every day is closed. Holidays are not listed: the
    offline notice names the next opening, which skips them."""
    runs = _runs(hours)
    if not runs:
        return wording.say("hours_none")
    parts = []
    for first, last, windows in runs:
        days = wording.say(f"day_{WEEKDAYS[first]}")
        if last != first:
            days = wording.say(
                "hours_day_range", first=days, last=wording.say(f"day_{WEEKDAYS[last]}")
            )
        times = _listed([f"{_time(start)}-{_time(end)}" for start, end in windows], wording)
        parts.append(wording.say("hours_days_times", days=days, times=times))
    return wording.say("hours_summary", days=_listed(parts, wording), timezone=hours.timezone.key)


__all__ = ["describe"]
