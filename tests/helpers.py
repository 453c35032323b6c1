"""Builders shared by the tests: NLU results and trackers made by hand, a project copy
for the content checks, and the headless Chromium the browser tests drive."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

import yaml
from rasa_sdk import Tracker

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("HANDOFF_CHROMIUM", "/usr/bin/chromium")
#: Headless Chromium's flags for every browser test (no sandbox: tests run as root in CI).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """Chromium's path; in CI a missing browser fails the run instead of skipping."""
    import pytest

    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not found:
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing at {CHROMIUM} but CI is set: install it")
        pytest.skip("Chromium is not installed")
    return found


def project_copy(folder: Path) -> Path:
    """The files `make validate`'s content check reads, copied into ``folder``."""
    for name in ("config.yml", "domain.yml", "endpoints.yml", "topics.yml", "shop.yml"):
        shutil.copy(ROOT / name, folder / name)
    shutil.copytree(ROOT / "data", folder / "data")
    shutil.copytree(
        ROOT / "actions", folder / "actions", ignore=shutil.ignore_patterns("__pycache__")
    )
    return folder


def check_data(root: Path) -> subprocess.CompletedProcess[str]:
    """`python -m tools.content.check_data` (part of `make validate`) on ``root``."""
    return subprocess.run(
        [sys.executable, "-m", "tools.content.check_data", "--root", str(root)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def domain() -> dict[str, Any]:
    """The project's domain.yml as the action server receives it."""
    return yaml.safe_load((ROOT / "domain.yml").read_text())


def parse(
    text: str,
    intent: str = "faq",
    confidence: float = 0.98,
    faq: Sequence[tuple[str, float]] = (),
    others: Sequence[tuple[str, float]] = (),
) -> dict[str, Any]:
    """An NLU result: the intent, its ranking, and the ResponseSelector's FAQ ranking."""
    ranking = [{"name": intent, "confidence": confidence}] + [
        {"name": name, "confidence": conf} for name, conf in others
    ]
    result: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": ranking,
        "entities": [],
    }
    if faq:
        ranked = [{"intent_response_key": f"faq/{key}", "confidence": conf} for key, conf in faq]
        result["response_selector"] = {
            "all_retrieval_intents": ["faq"],
            "faq": {
                "response": {
                    "intent_response_key": ranked[0]["intent_response_key"],
                    "confidence": ranked[0]["confidence"],
                    "utter_action": f"utter_{ranked[0]['intent_response_key']}",
                },
                "ranking": ranked,
            },
        }
    return result


def user_event(parse_data: dict[str, Any]) -> dict[str, Any]:
    """A `user` event as Rasa stores it."""
    return {"event": "user", "text": parse_data["text"], "parse_data": parse_data, "timestamp": 1.0}


def bot_event(text: str, utter_action: str | None = None) -> dict[str, Any]:
    """A `bot` event as Rasa stores it."""
    metadata = {"utter_action": utter_action} if utter_action else {}
    return {"event": "bot", "text": text, "data": {}, "metadata": metadata, "timestamp": 1.0}


def tracker(
    latest: dict[str, Any],
    history: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    sender_id: str = "test-conversation",
) -> Tracker:
    """A tracker whose latest message is `latest`, after `history`."""
    events = [{"event": "session_started"}] + list(history or []) + [user_event(latest)]
    return Tracker(
        sender_id=sender_id,
        slots=dict(slots or {}),
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def hours_answer() -> str:
    """What the assistant answers to "when can I talk to someone?", as the customer reads
    it: the real FAQ action (which asks ``WEB_APP_URL`` for the hours), then the domain's
    text filled with the values it sent, as Rasa fills it."""
    from rasa_sdk.executor import CollectingDispatcher

    from actions.faq import ActionAnswerFaq

    track = tracker(parse("when are you around?", faq=[("contact_hours", 0.97)]))
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, track, domain())
    answer = dispatcher.messages[0]
    assert answer["response"] == "utter_faq/contact_hours", dispatcher.messages
    text = domain()["responses"]["utter_faq/contact_hours"][0]["text"]
    return str(text).format(**{k: v for k, v in answer.items() if isinstance(v, str)})
