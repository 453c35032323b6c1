"""Checks of the content that `rasa data validate` does not make.

Run as `python -m tools.content.check_data` (part of `make validate`). Every problem is printed as
`file:line: message` so a trainer can jump to it; the exit code is 1 when any was found.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from actions.content import PROJECT_ROOT, facts_in, placeholders
from bot.locales import check_locales
from handoff.messages import check_messages
from handoff.routing import RoutingError, load_routing
from tools.content.validate import responses_spoken_by_actions

MIN_FAQ_EXAMPLES = 12
MAX_EXAMPLE_CHARS = 500


@dataclass
class Report:
    """Problems found, each with the file and line it belongs to."""

    problems: list[str] = field(default_factory=list)

    def add(self, path: Path, line: int | None, message: str) -> None:
        where = f"{_rel(path)}:{line}" if line else _rel(path)
        self.problems.append(f"{where}: {message}")


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that remembers the line of every mapping (as `__line__`)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def yaml_error_position(error: yaml.MarkedYAMLError) -> tuple[Any | None, str]:
    """The mark of the line to fix, and what is wrong there.

    The scanner notices an unclosed quote only at the end of the file, stray text only
    on the line after it, an unclosed ``[`` wherever the list stops making sense: the
    context mark ("while scanning a quoted scalar", "while parsing a flow sequence")
    points where the broken token starts, which is the line a trainer must fix.
    """
    problem = error.problem or str(error)
    unclosed = isinstance(error, yaml.scanner.ScannerError) or (error.context or "").startswith(
        "while parsing a flow"
    )  # an unclosed [ or {
    if unclosed and error.context_mark is not None:
        found = f" (found at line {error.problem_mark.line + 1})" if error.problem_mark else ""
        return error.context_mark, f"{problem}{found}, {error.context} that starts here"
    if error.context and error.context_mark is not None:
        return error.problem_mark, (
            f"{problem}, {error.context} that starts at line {error.context_mark.line + 1}"
        )
    return error.problem_mark, problem


def load(path: Path, report: Report) -> dict[str, Any] | None:
    """Parse a YAML file, reporting syntax errors with their line and column."""
    if not path.exists():
        report.add(path, None, "file is missing")
        return None
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.MarkedYAMLError as error:
        mark, message = yaml_error_position(error)
        line = mark.line + 1 if mark else None
        column = f", column {mark.column + 1}" if mark else ""
        report.add(path, line, f"invalid YAML{column}: {message}")
        return None
    if not isinstance(data, dict):
        report.add(path, 1, "expected a mapping (key: value) at the top level")
        return None
    return data


def nlu_examples(paths: list[Path], report: Report) -> dict[str, list[tuple[Path, int, str]]]:
    """Training examples per intent, with where each block is."""
    examples: dict[str, list[tuple[Path, int, str]]] = {}
    for path in paths:
        data = load(path, report)
        for item in (data or {}).get("nlu") or []:
            if not isinstance(item, dict) or "intent" not in item:
                continue
            line = item.get("__line__", 0)
            text = item.get("examples") or ""
            if not isinstance(text, str):
                report.add(path, line, f"intent {item['intent']}: examples must be a '|' block")
                continue
            for offset, raw in enumerate(text.splitlines()):
                example = raw.strip()
                if not example:
                    continue
                if not example.startswith("- "):
                    report.add(
                        path, line, f"intent {item['intent']}: '{example}' must start with '- '"
                    )
                    continue
                examples.setdefault(item["intent"], []).append(
                    (path, line + 1 + offset, example[2:].strip())
                )
    return examples


def frustration_examples(path: Path, report: Report) -> None:
    """The frustration reader's examples (actions/frustration_model.py) read cleanly."""
    from actions.frustration_model import ExamplesError, read_examples

    try:
        read_examples(path)
    except ExamplesError as exc:
        report.add(exc.path, exc.line, exc.problem)


def check(root: Path) -> Report:
    """Run every check on the project at `root`."""
    report = Report()
    domain_path, topics_path, shop_path = (
        root / "domain.yml",
        root / "topics.yml",
        root / "shop.yml",
    )
    nlu_paths = sorted((root / "data").glob("*.yml"))
    for path in nlu_paths + [root / "config.yml", root / "endpoints.yml"]:
        load(path, report)
    domain = load(domain_path, report) or {}
    topics = load(topics_path, report) or {}
    shop = load(shop_path, report) or {}
    examples = nlu_examples(nlu_paths, report)
    frustration_examples(root / "data" / "frustration_examples.csv", report)

    faq = {k: v for k, v in (topics.get("faq") or {}).items() if k != "__line__"}
    intent_topics = topics.get("intents") or {}
    responses = domain.get("responses") or {}
    topics_line = (topics.get("faq") or {}).get("__line__")

    for key, entry in faq.items():
        if not isinstance(entry, dict) or not entry.get("topic") or not entry.get("title"):
            report.add(topics_path, topics_line, f"faq {key}: needs a topic and a title")
        count = len(examples.get(f"faq/{key}", []))
        if count < MIN_FAQ_EXAMPLES:
            report.add(
                root / "data" / "nlu.yml",
                None,
                f"faq/{key} has {count} training examples; at least {MIN_FAQ_EXAMPLES} are needed",
            )
        if f"utter_faq/{key}" not in responses:
            report.add(
                domain_path, None, f"faq/{key} has no answer: add the response utter_faq/{key}"
            )

    for intent, found in examples.items():
        path, line, _ = found[0]
        if intent.startswith("faq/"):
            if intent[4:] not in faq:
                report.add(
                    topics_path,
                    None,
                    f"{intent} (used at {_rel(path)}:{line}) is not in the faq catalogue",
                )
        elif intent not in intent_topics:
            report.add(
                topics_path, None, f"intent {intent} (used at {_rel(path)}:{line}) has no topic"
            )
        for path, line, text in found:
            if text.startswith("/"):
                report.add(
                    path, line, f"example '{text}' starts with '/', which Rasa reads as an intent"
                )
            if len(text) > MAX_EXAMPLE_CHARS:
                report.add(path, line, f"example is longer than {MAX_EXAMPLE_CHARS} characters")

    first_seen: dict[str, tuple[str, Path, int]] = {}
    for intent, found in examples.items():
        for path, line, text in found:
            key = " ".join(text.casefold().split())
            if key in first_seen:
                other, other_path, other_line = first_seen[key]
                report.add(
                    path,
                    line,
                    f"example '{text}' of {intent} is also an example of {other} "
                    f"({_rel(other_path)}:{other_line}); keep it under one intent only",
                )
            else:
                first_seen[key] = (intent, path, line)

    for intent in domain.get("intents") or []:
        name = intent if isinstance(intent, str) else next(iter(intent))
        if name != "faq" and name not in intent_topics:
            report.add(topics_path, None, f"intent {name} (domain.yml) has no topic")

    facts = set(facts_in(shop)) - {"__line__"}
    spoken_by_actions = responses_spoken_by_actions(root / "actions")
    for name, variants in responses.items():
        if name == "__line__":
            continue
        for variant in variants or []:
            for placeholder in placeholders(variant.get("text") or ""):
                if name.split("/")[0] not in spoken_by_actions:
                    report.add(
                        domain_path,
                        variant.get("__line__"),
                        f"{name} uses {{{placeholder}}}, but only responses spoken by a "
                        "custom action get the values of shop.yml; write the text out",
                    )
                elif placeholder not in facts:
                    report.add(
                        domain_path,
                        variant.get("__line__"),
                        f"{name} uses {{{placeholder}}}, which shop.yml does not define",
                    )
    if shop_path.exists():  # the chat's own wording (shop.yml's messages section)
        report.problems.extend(check_messages(Path(_rel(shop_path))))
        try:  # the desk's routing rules name real topics and reasons
            load_routing(Path(_rel(shop_path)), topics_path)
        except RoutingError as problem:
            report.problems.append(str(problem))
    # The widget's own words (bot/locales/*.json): placeholders as in English.
    report.problems.extend(check_locales(root / "bot" / "locales"))
    return report


def main(argv: list[str] | None = None) -> int:
    """Print the problems found; exit 1 when there are any."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project folder")
    args = parser.parse_args(argv)
    report = check(args.root)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if report.problems:
        print(f"{len(report.problems)} problem(s) found.", file=sys.stderr)
        return 1
    print("Content checks passed: every FAQ has an answer, enough examples and a topic.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
