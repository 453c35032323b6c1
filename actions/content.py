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


@lru_cache(maxsize=None)
def shop_facts() -> dict[str, str]:
    """The placeholders the responses may use, e.g. `{return_window_days}` -> "30"."""
    data = _read_yaml(shop_file())
    facts: dict[str, str] = {}
    for section in ("shop", "policies"):
        facts.update({k: str(v) for k, v in (data.get(section) or {}).items()})
    hours = data.get("support_hours") or {}
    if "summary" in hours:
        facts["support_hours"] = str(hours["summary"])
    return facts


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


def fill_values(domain: Mapping[str, Any], response: str) -> dict[str, str]:
    """The shop facts that `response` (as defined in `domain`) refers to.

    Only these are passed along with the response, so each stored bot event carries
    what it used and not the whole shop file.
    """
    variants = (domain.get("responses") or {}).get(response) or []
    names: set[str] = set()
    for variant in variants:
        names.update(placeholders(variant.get("text") or ""))
    facts = shop_facts()
    return {name: facts[name] for name in names if name in facts}
