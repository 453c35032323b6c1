"""The shop's facts (shop.yml) and the FAQ catalogue (topics.yml), read once and cached.

Files are read on first use, never at import time. `SHOP_FILE` and `TOPICS_FILE` point
elsewhere for a shop that keeps its content outside the project folder.
"""

from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from actions.support_hours import current_summary

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ: its key (intent `faq/<key>`), evaluation topic and button title."""

    key: str
    topic: str
    title: str

    @property
    def response(self) -> str:
        """The domain response that holds the answer."""
        return f"utter_faq/{self.key}"


def _read_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def shop_file() -> Path:
    """Where the shop's facts live."""
    return Path(os.environ.get("SHOP_FILE", PROJECT_ROOT / "shop.yml"))


def topics_file() -> Path:
    """Where the FAQ catalogue and topic map live."""
    return Path(os.environ.get("TOPICS_FILE", PROJECT_ROOT / "topics.yml"))


def facts_in(document: Mapping[str, Any]) -> dict[str, str]:
    """The placeholders a shop file's responses may use, e.g. `{return_window_days}` ->
    "30"; `{support_hours}` is the file's summary (the current hours: `fill_values`)."""
    facts: dict[str, str] = {}
    for section in ("shop", "policies"):
        facts.update({str(k): str(v) for k, v in (document.get(section) or {}).items()})
    hours = document.get("support_hours") or {}
    if hours.get("summary"):
        facts["support_hours"] = str(hours["summary"])
    return facts


@lru_cache(maxsize=None)
def shop_facts() -> dict[str, str]:
    """The placeholders of shop.yml (see `facts_in`), read once."""
    return facts_in(_read_yaml(shop_file()))


@lru_cache(maxsize=None)
def topic_map() -> dict[str, Any]:
    """The raw contents of topics.yml."""
    return _read_yaml(topics_file())


@lru_cache(maxsize=None)
def faq_catalog() -> dict[str, FaqEntry]:
    """Every FAQ by key."""
    entries = topic_map().get("faq") or {}
    return {
        key: FaqEntry(key=key, topic=str(v["topic"]), title=str(v["title"]))
        for key, v in entries.items()
    }


def placeholders(text: str) -> Iterable[str]:
    """The `{name}` placeholders in a response text."""
    return {
        name
        for _, name, _, _ in string.Formatter().parse(text)
        if name and re.fullmatch(r"\w+", name)
    }


async def fill_values(domain: Mapping[str, Any], response: str) -> dict[str, str]:
    """The shop facts that `response` (as defined in `domain`) refers to.

    Only these are passed along with the response, so each stored bot event carries
    what it used and not the whole shop file. `{support_hours}` is asked of the web app,
    where admins may have changed the hours; shop.yml's sentence if it cannot tell.
    """
    variants = (domain.get("responses") or {}).get(response) or []
    names: set[str] = set()
    for variant in variants:
        names.update(placeholders(variant.get("text") or ""))
    facts = shop_facts()
    values = {name: facts[name] for name in names if name in facts}
    if "support_hours" in names:
        current = await current_summary()
        if current:
            values["support_hours"] = current
    return values
