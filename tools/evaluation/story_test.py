"""Run tests/test_stories.yml against the trained model, and fail loudly.

Two checks: `rasa test core` for the actions each story expects, and the model's NLU for
the intent of each user message (Rasa 3.6's story test only checks the base intent `faq`,
not which FAQ, and exits 0 even when stories fail). Failures are printed and the exit
code is 1, so `make test` stops there.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from actions.content import PROJECT_ROOT
from tools.evaluation.evaluate import quiet_logs

STORIES = PROJECT_ROOT / "tests" / "test_stories.yml"
MODEL = PROJECT_ROOT / "models" / "assistant.tar.gz"
OUT = PROJECT_ROOT / "results" / "stories"


def failed_stories(out: Path) -> list[str]:
    """Names of the stories Rasa wrote to failed_test_stories.yml."""
    path = out / "failed_test_stories.yml"
    if not path.exists():
        raise SystemExit(f"error: rasa test wrote no {path}; see its output above")
    data = yaml.safe_load(path.read_text()) or {}
    return [story.get("story", "?") for story in data.get("stories") or []]


def expected_intents(stories: Path) -> list[tuple[str, str, str]]:
    """(story, text, intent) of every user message with a text in the test stories."""
    data = yaml.safe_load(stories.read_text()) or {}
    found = []
    for story in data.get("stories") or []:
        for step in story.get("steps") or []:
            if step.get("user") and step.get("intent"):
                found.append((story.get("story", "?"), step["user"].strip(), step["intent"]))
    return found


def predicted_intent(parse: dict[str, Any]) -> str:
    """The intent NLU predicts, as `faq/<key>` for an FAQ question."""
    name = (parse.get("intent") or {}).get("name") or ""
    selector = (parse.get("response_selector") or {}).get(name) or {}
    full = (selector.get("response") or {}).get("intent_response_key")
    return full or name


async def nlu_mismatches(model: Path, stories: Path) -> list[str]:
    """One line per user message whose predicted intent differs from the story's."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    problems = []
    for story, text, intent in expected_intents(stories):
        got = predicted_intent(await agent.parse_message(text))
        if "/" not in intent:  # a base intent such as `faq`: which answer is not the point
            got = got.split("/", 1)[0]
        if got != intent:
            problems.append(f"{story}: '{text}' expected {intent}, predicted {got}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Run the stories; exit 1 when any failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--stories", type=Path, default=STORIES)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    rasa = str(Path(sys.executable).with_name("rasa"))
    total = len((yaml.safe_load(args.stories.read_text()) or {}).get("stories") or [])
    print(f"Running {total} test stories from {args.stories} ...", flush=True)
    result = subprocess.run(
        [
            rasa,
            "test",
            "core",
            "--stories",
            str(args.stories),
            "--model",
            str(args.model),
            "--out",
            str(args.out),
            "--no-plot",
            "--quiet",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
    )
    if result.returncode != 0:
        print(f"error: rasa test exited with {result.returncode}", file=sys.stderr)
        return result.returncode
    failed = failed_stories(args.out)
    if failed:
        print((args.out / "failed_test_stories.yml").read_text(), file=sys.stderr)
    quiet_logs()
    mismatches = asyncio.run(nlu_mismatches(args.model, args.stories))
    for line in mismatches:
        print(f"NLU: {line}", file=sys.stderr)
    if failed or mismatches:
        print(
            f"{len(failed)} of {total} test stories failed on actions"
            + (f" ({', '.join(failed)})" if failed else "")
            + f"; {len(mismatches)} user messages got another intent.",
            file=sys.stderr,
        )
        return 1
    print(f"All {total} test stories passed (actions and intents).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
