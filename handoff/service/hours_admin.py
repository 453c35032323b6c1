"""Support hours admins change in the desk; ``shop.yml``'s ``support_hours`` stays the
default (and comes back when the desk's version is removed).

The desk's version is stored in ``desk_settings`` in the file's own shape and checked by
the same parser, so what an admin can save is exactly what the file accepts. It applies
to this process at once; a change publishes ``support_hours.changed`` after commit and
every web worker reads the hours again (:meth:`HoursService.follow`), and again after
the bus resynced, since the event may have been missed then.

Customers are told the desk's hours in a sentence written from its schedule
(:func:`handoff.hours_summary.describe`), never a summary typed beside it: an edited
schedule with last week's sentence would tell customers the old hours. The file's hours
keep the file's ``summary``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, Callable

import yaml
from sqlalchemy import delete, insert, select, update

from ..events import BUS_RESYNC, SUPPORT_HOURS_CHANGED
from ..hours import HoursError, OfficeHours, load_hours, parse_hours
from ..hours_summary import describe
from ..models import desk_settings
from .audit import Actor, record
from .base import ServiceBase
from .errors import InvalidInput

KEY = "support_hours"
logger = logging.getLogger(__name__)


def _file_section(path: Any) -> dict[str, Any]:
    document = yaml.safe_load(open(path, encoding="utf-8").read()) or {}
    section = _plain(document.get(KEY) or {})
    section.pop("summary", None)  # said apart (``current``'s "summary")
    return section


def _plain(section: Any) -> dict[str, Any]:
    """The section with dates as ISO text (YAML reads holidays as dates; JSON cannot)."""
    out = dict(section)
    out["holidays"] = [str(day) for day in out.get("holidays") or []]
    return out


class HoursService(ServiceBase):
    """Read, change and reset the support hours; ``apply`` puts new hours in service."""

    def __init__(self, base: ServiceBase, apply: Callable[[OfficeHours], None]) -> None:
        super().__init__(*base.parts())
        self.apply = apply

    def _desk_hours(self, section: Any) -> OfficeHours:
        """Hours as saved in the desk, with the sentence written from their schedule;
        :class:`HoursError` when malformed."""
        hours = parse_hours(section, "support_hours")
        return replace(hours, summary=describe(hours, self.wording))

    async def _stored(self) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            query = select(desk_settings.c.value).where(desk_settings.c.key == KEY)
            stored = (await conn.execute(query)).scalar_one_or_none()
        if stored is not None:
            # Saved before the sentence was written from the schedule: not said any more.
            stored = {k: v for k, v in stored.items() if k != "summary"}
        return stored

    async def _in_force(self) -> tuple[str, dict[str, Any], OfficeHours]:
        stored = await self._stored()
        if stored is not None:
            return "desk", stored, self._desk_hours(stored)
        file_hours = load_hours(self.settings.shop_file)
        return "file", _file_section(self.settings.shop_file), file_hours

    async def current(self) -> dict[str, Any]:
        """``{"source": "desk"|"file", "support_hours": {...}, "summary": "..."}``, the
        summary being the sentence customers are told."""
        source, section, hours = await self._in_force()
        return {"source": source, KEY: section, "summary": hours.summary}

    async def load(self) -> None:
        """Put the stored hours in service: the desk's when an admin saved some, else
        the file's (at start-up, and when another worker changed them)."""
        _source, _section, hours = await self._in_force()
        self.apply(hours)

    async def follow(self) -> None:
        """Read the hours again whenever a worker changed them (a background task)."""
        sub = self.bus.subscribe(names=[SUPPORT_HOURS_CHANGED, BUS_RESYNC])
        try:
            while True:
                await sub.get()
                try:
                    await self.load()
                except Exception:  # the next change or resync tries again
                    logger.exception("reading the support hours again failed")
        finally:
            self.bus.unsubscribe(sub)

    async def set_hours(self, section: Any, *, by: Actor) -> dict[str, Any]:
        """Check and store new hours, audited; :class:`InvalidInput` says what is wrong."""
        if not isinstance(section, dict):
            raise InvalidInput("support_hours must be an object like the one in shop.yml")
        if "summary" in section:
            raise InvalidInput(
                "support_hours.summary cannot be set: customers are told the hours in a "
                "sentence written from the weekly schedule (its words are in shop.yml's "
                "messages); leave summary out"
            )
        try:
            hours = self._desk_hours(section)
        except HoursError as problem:
            raise InvalidInput(str(problem)) from None
        value = _plain(section)
        now = self.now()
        async with self.unit() as work:
            before = await self.current()
            changed = await work.conn.execute(
                update(desk_settings)
                .where(desk_settings.c.key == KEY)
                .values(value=value, updated_at=now)
            )
            if changed.rowcount == 0:
                await work.conn.execute(
                    insert(desk_settings).values(key=KEY, value=value, updated_at=now)
                )
            detail = {"from": before[KEY], "to": value}
            await record(work.conn, by, "support_hours.changed", KEY, detail, now)
            work.emit(SUPPORT_HOURS_CHANGED, {})
        self.apply(hours)
        return await self.current()

    async def reset(self, *, by: Actor) -> dict[str, Any]:
        """Back to ``shop.yml``'s hours."""
        async with self.unit() as work:
            await work.conn.execute(delete(desk_settings).where(desk_settings.c.key == KEY))
            await record(work.conn, by, "support_hours.reset", KEY, {}, self.now())
            work.emit(SUPPORT_HOURS_CHANGED, {})
        self.apply(load_hours(self.settings.shop_file))
        return await self.current()


__all__ = ["HoursService"]
