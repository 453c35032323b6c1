"""Which team a handoff goes to: the ``routing`` rules of ``shop.yml``.

Each rule names a team and the FAQ topics and/or handoff reasons it takes; the first
rule that matches wins, and a handoff no rule matches goes to everyone. The topic of a
handoff is read from what the action layer sends: the last FAQ answers given
(``faq_answers``, FAQ keys) first, then the intents seen, both mapped to topics by
``topics.yml`` (the same catalogue ``make eval`` scores with)::

    routing:
      - team: Payments
        topics: [payment]
      - team: Returns
        topics: [returns_refund]
        reasons: [unhelpful_answer, frustration]   # both must match when both are given

Teams themselves (and who is in them) are kept in the desk by admins; a rule naming a
team the desk does not have routes to everyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from .contract import REASONS


class RoutingError(ValueError):
    """The ``routing`` section is malformed (the message names the file and rule)."""


@dataclass(frozen=True)
class RoutingRule:
    """Send handoffs about ``topics`` (any, when empty) for ``reasons`` (any, when
    empty) to ``team``."""

    team: str
    topics: frozenset[str] = frozenset()
    reasons: frozenset[str] = frozenset()

    def matches(self, reason: str, topics: list[str]) -> bool:
        """Whether a handoff with this reason and these topics (best first) fits."""
        if self.reasons and reason not in self.reasons:
            return False
        return not self.topics or any(topic in self.topics for topic in topics)


@dataclass(frozen=True)
class Routing:
    """The rules and the topic map they are read with."""

    rules: tuple[RoutingRule, ...] = ()
    faq_topics: Mapping[str, str] = field(default_factory=dict)
    intent_topics: Mapping[str, str] = field(default_factory=dict)

    def topics_of(self, context: Mapping[str, Any]) -> list[str]:
        """The handoff's topics, most telling first: last FAQ answers, then intents."""
        found: list[str] = []
        answers = context.get("faq_answers") or []
        for key in reversed(answers if isinstance(answers, list) else []):
            topic = self.faq_topics.get(str(key).rsplit("/", 1)[-1])
            if topic and topic not in found:
                found.append(topic)
        intents = context.get("intents") or []
        for intent in reversed(intents if isinstance(intents, list) else []):
            name = str(intent.get("name", "")) if isinstance(intent, dict) else ""
            topic = self.intent_topics.get(name) or self.faq_topics.get(name.rsplit("/", 1)[-1])
            if topic and topic not in found:
                found.append(topic)
        return found

    def team_for(self, reason: str, context: Mapping[str, Any]) -> str | None:
        """The team the first matching rule names, or None (everyone)."""
        topics = self.topics_of(context)
        for rule in self.rules:
            if rule.matches(reason, topics):
                return rule.team
        return None


NO_ROUTING = Routing()


def _names(value: Any, what: str, where: str, allowed: set[str]) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RoutingError(f"{where}: {what} must be a list of names")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise RoutingError(
            f"{where}: unknown {what} {', '.join(unknown)} (known: {', '.join(sorted(allowed))})"
        )
    return frozenset(value)


def load_routing(shop_file: str | Path, topics_file: str | Path) -> Routing:
    """Read the rules of ``shop_file`` and the topic map of ``topics_file``; no
    ``routing`` section means every handoff goes to everyone."""
    shop_file, topics_file = Path(shop_file), Path(topics_file)
    document = yaml.safe_load(shop_file.read_text(encoding="utf-8")) or {}
    section = document.get("routing")
    if not section:
        return NO_ROUTING
    catalogue = yaml.safe_load(topics_file.read_text(encoding="utf-8")) or {}
    faq_topics = {str(k): str(v["topic"]) for k, v in (catalogue.get("faq") or {}).items()}
    intent_topics = {str(k): str(v) for k, v in (catalogue.get("intents") or {}).items()}
    known_topics = set(faq_topics.values()) | set(intent_topics.values())
    if not isinstance(section, list):
        raise RoutingError(f"{shop_file}: routing must be a list of rules")
    rules = []
    for number, raw in enumerate(section, 1):
        where = f"{shop_file}: routing rule {number}"
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("team"), str)
            or not raw["team"].strip()
        ):
            raise RoutingError(f"{where}: each rule needs a team name")
        extra = set(raw) - {"team", "topics", "reasons"}
        if extra:
            raise RoutingError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
        rules.append(
            RoutingRule(
                raw["team"].strip(),
                _names(raw.get("topics"), "topics", where, known_topics),
                _names(raw.get("reasons"), "reasons", where, set(REASONS)),
            )
        )
    return Routing(tuple(rules), faq_topics, intent_topics)
