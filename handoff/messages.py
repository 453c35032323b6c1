"""What the chat tells the customer, from the ``messages`` section of ``shop.yml``.

A trainer edits the wording there; ``{shop_name}``-style placeholders take the shop's
facts (the ``shop`` section) when the file is read at start-up. A few messages also take
values known only when they are sent (the agent's name, the customer's text, the support
hours, which admins may change in the desk at any time): :data:`RUNTIME_PLACEHOLDERS`
lists them.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

#: Every message the code sends, with the placeholders only known when it is sent.
RUNTIME_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "unavailable_at_start": frozenset(),
    "unavailable": frozenset(),
    "busy_at_start": frozenset(),
    "busy": frozenset(),
    "bot_back": frozenset(),
    "back_unavailable": frozenset(),
    "back_busy": frozenset(),
    "missed": frozenset({"text"}),
    "choose": frozenset(),
    "button_talk_to_person": frozenset(),
    "button_leave_message": frozenset(),
    "button_leave_contact": frozenset(),
    "queued_next": frozenset(),
    "queued_next_wait": frozenset({"wait"}),
    "queued": frozenset({"position"}),
    "queued_wait": frozenset({"position", "wait"}),
    "wait_one_minute": frozenset(),
    "wait_minutes": frozenset({"minutes"}),
    "agent_joined": frozenset({"name"}),
    "offline_no_agents": frozenset(),
    "offline_closed": frozenset({"when", "timezone"}),
    "offline_closed_unknown": frozenset(),
    "support_hours_note": frozenset({"hours"}),
    "agent_joined_unnamed": frozenset(),
    # The words of the hours sentence (handoff.hours_summary) for hours edited in the desk.
    "day_mon": frozenset(),
    "day_tue": frozenset(),
    "day_wed": frozenset(),
    "day_thu": frozenset(),
    "day_fri": frozenset(),
    "day_sat": frozenset(),
    "day_sun": frozenset(),
    "hours_day_range": frozenset({"first", "last"}),
    "hours_days_times": frozenset({"days", "times"}),
    "hours_list": frozenset({"items", "last"}),
    "hours_summary": frozenset({"days", "timezone"}),
    "hours_none": frozenset(),
    "transcript_title": frozenset(),
    "transcript_closing": frozenset(),
    "author_bot": frozenset(),
    "author_customer": frozenset(),
    "author_system": frozenset(),
    "author_team": frozenset(),
    "continuation_opening": frozenset(),
    "continuation_how_to_continue": frozenset(),
    "continuation_quote_heading": frozenset(),
    "continuation_sent_one": frozenset({"address"}),
    "continuation_sent_many": frozenset({"count", "address"}),
    "continuation_failed": frozenset({"address", "problem"}),
}

#: Facts the chat itself uses: the widget's title, the transcript mail's sender.
REQUIRED_FACTS = ("shop_name", "support_email")


class MessagesError(ValueError):
    """The ``messages`` section is missing, incomplete or names an unknown placeholder."""


@dataclass(frozen=True)
class Messages:
    """The customer-facing wording, shop facts already filled in, and the facts."""

    texts: Mapping[str, str]
    facts: Mapping[str, str]

    @property
    def shop_name(self) -> str:
        """The shop's name (``shop.shop_name``), as the chat shows it."""
        return self.facts["shop_name"]

    def say(self, key: str, **values: str) -> str:
        """The message ``key`` with its runtime placeholders (if any) filled."""
        text = self.texts[key]
        # Facts and values are inserted as they are: braces in them are not re-read.
        return text.format(**{**self.facts, **values}) if RUNTIME_PLACEHOLDERS[key] else text


def shop_facts(document: Mapping[str, Any]) -> dict[str, str]:
    """The values every message may name: the ``shop`` section. (Not the hours: filled
    in at start-up they would outlive an admin's edit; ``support_hours_note`` takes them
    when it is sent.)"""
    return {str(k): str(v) for k, v in (document.get("shop") or {}).items()}


def _placeholders(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def check_messages(path: str | Path) -> list[str]:
    """Every problem of the file's ``messages`` section, as ``file:line: message``."""
    path = Path(path)
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return [f"{path}: file not found (set HANDOFF_SHOP_FILE)"]
    except yaml.YAMLError as error:
        return [f"{path}: invalid YAML: {error}"]
    section = next(
        (value for key, value in getattr(root, "value", []) if key.value == "messages"), None
    )
    if not isinstance(section, yaml.MappingNode):
        return [f"{path}: no 'messages' section (a mapping of message name to text)"]
    facts = shop_facts(document)
    problems: list[str] = []
    for needed in REQUIRED_FACTS:
        if not facts.get(needed):
            problems.append(f"{path}: the shop section needs {needed} (the chat uses it)")
    seen = set()
    for key_node, value_node in section.value:
        key, line = key_node.value, key_node.start_mark.line + 1
        seen.add(key)
        if key not in RUNTIME_PLACEHOLDERS:
            problems.append(f"{path}:{line}: unknown message '{key}'")
            continue
        if not isinstance(value_node, yaml.ScalarNode) or not str(value_node.value).strip():
            problems.append(f"{path}:{line}: message '{key}' must be a text")
            continue
        try:
            names = _placeholders(value_node.value)
        except ValueError as error:  # a lone { or }
            problems.append(f"{path}:{line}: message '{key}': {error} (write {{{{ for {{)")
            continue
        allowed = set(facts) | RUNTIME_PLACEHOLDERS[key]
        for name in names:
            if name not in allowed:
                problems.append(
                    f"{path}:{line}: message '{key}' uses {{{name}}}, which is not one of "
                    f"{', '.join(sorted(allowed))}"
                )
    for key in RUNTIME_PLACEHOLDERS:
        if key not in seen:
            problems.append(f"{path}:{section.start_mark.line + 1}: message '{key}' is missing")
    return problems


def load_messages(path: str | Path) -> Messages:
    """Read and check the ``messages`` section of a shop file, filling the shop facts."""
    problems = check_messages(path)
    if problems:
        raise MessagesError("\n".join(problems))
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    facts = shop_facts(document)
    texts = {}
    for key, raw in document["messages"].items():
        text = " ".join(str(raw).split())
        # Messages with runtime values are filled when sent (facts and values at once).
        texts[key] = text if RUNTIME_PLACEHOLDERS[key] else text.format(**facts)
    return Messages(texts, facts)
