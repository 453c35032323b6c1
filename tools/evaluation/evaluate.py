"""`make eval`: what the assistant really does with each message of a labelled CSV.

Each text is sent as the first message of a fresh conversation to the trained model,
with the real action server answering its custom actions: the same code path as in
production. The outcome is read from the conversation's events: an FAQ answer (which
one), a clarification (with the FAQs it offered), a handoff, or a decline. An optional
`accept` column lists every right topic (`a|b`); a `source` column gets its own table.
"One click" counts a right answer, or a clarification whose suggestions hold a right
answer: the customer is one button press away. Scores per topic and per source are
printed and written to reports/eval.md with a confusion-matrix picture; each row (text,
topic, outcome, faq, answered_topic, suggestions, NLU confidences) goes to
reports/eval_rows.jsonl, which `python -m tools.evaluation.tune_thresholds` uses to choose the
thresholds. The last printed line is machine-readable.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from actions.content import PROJECT_ROOT, faq_catalog
from actions.handoff import SUGGESTIONS_SLOT

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "eval" / "dev_intents.csv"
REPORTS = PROJECT_ROOT / "reports"
MODEL = PROJECT_ROOT / "models" / "assistant.tar.gz"
OUT_OF_SCOPE = "out_of_scope"
HUMAN_REQUEST = "human_request"
#: Any other reply (a greeting, "how can I help?"): not the FAQ topic called `other`.
OTHER_REPLY = "other reply"


@dataclass
class Row:
    """One labelled message and what the assistant did with it."""

    text: str
    topic: str
    outcome: str = ""  # answer | clarify | handoff | decline | other reply
    faq: str | None = None  # the FAQ answered
    answered_topic: str | None = None
    accept: list[str] = field(default_factory=list)  # every right topic; [topic] if empty
    source: str = ""
    suggestions: list[str] = field(default_factory=list)  # FAQ keys offered as buttons
    intent: str | None = None
    intent_confidence: float = 0.0
    ranking: list[dict[str, Any]] | None = None  # intent ranking, for tuning
    faq_ranking: list[dict[str, Any]] | None = None  # ResponseSelector ranking
    ms: float = 0.0

    @property
    def right_topics(self) -> list[str]:
        """The topics whose answer is right (the `accept` column, else the topic)."""
        return self.accept or [self.topic]

    @property
    def correct(self) -> bool:
        """The right thing for this topic: its FAQ answer, or a handoff when asked."""
        if HUMAN_REQUEST in self.right_topics and self.outcome == "handoff":
            return True
        return self.outcome == "answer" and self.answered_topic in self.right_topics

    @property
    def one_click(self) -> bool:
        """Right, or a clarification offering a right answer as a button."""
        if self.correct:
            return True
        if self.outcome != "clarify":
            return False
        catalog = faq_catalog()
        return any(
            key in catalog and catalog[key].topic in self.right_topics for key in self.suggestions
        )

    @property
    def wrong_answer(self) -> bool:
        """An FAQ answer from another topic (on out-of-scope rows: any FAQ answer)."""
        return self.outcome == "answer" and self.answered_topic not in self.right_topics


def read_rows(path: Path) -> list[Row]:
    """Rows of a CSV with `text` and `topic` columns (optional `accept`, `source`).

    A clear error names the file when columns are missing or an `accept` cell leaves
    out the row's own topic.
    """
    if not path.exists():
        raise SystemExit(f"error: {path}: no such file")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "topic"} - set(reader.fieldnames or [])
        if missing:
            raise SystemExit(
                f"error: {path}: needs the columns text,topic "
                f"(missing: {', '.join(sorted(missing))})"
            )
        rows = []
        for line, r in enumerate(reader, start=2):
            if not (r.get("text") or "").strip():
                continue
            topic = r["topic"].strip()
            accept = [t.strip() for t in (r.get("accept") or "").split("|") if t.strip()]
            if accept and topic not in accept:
                raise SystemExit(
                    f"error: {path}:{line}: accept '{r['accept']}' leaves out the topic '{topic}'"
                )
            rows.append(
                Row(
                    text=r["text"].strip(),
                    topic=topic,
                    accept=accept,
                    source=(r.get("source") or "").strip(),
                )
            )
    if not rows:
        raise SystemExit(f"error: {path}: no rows with text")
    return rows


def classify(row: Row, events: Iterable[Mapping[str, Any]]) -> None:
    """Fill in the row's outcome from the conversation's events."""
    outcome = OTHER_REPLY
    for event in events:
        if event.get("event") == "user":
            parse = event.get("parse_data") or {}
            row.intent = (parse.get("intent") or {}).get("name")
            row.intent_confidence = float((parse.get("intent") or {}).get("confidence") or 0)
            row.ranking = [
                {"name": i.get("name"), "confidence": round(float(i.get("confidence") or 0), 4)}
                for i in (parse.get("intent_ranking") or [])[:5]
            ]
            faq = (parse.get("response_selector") or {}).get("faq") or {}
            row.faq_ranking = [
                {
                    "intent_response_key": i.get("intent_response_key"),
                    "confidence": round(float(i.get("confidence") or 0), 4),
                }
                for i in (faq.get("ranking") or [])[:12]
            ]
        if event.get("event") == "slot" and event.get("name") == SUGGESTIONS_SLOT:
            row.suggestions = list(event.get("value") or [])
        if event.get("event") != "bot":
            continue
        action = (event.get("metadata") or {}).get("utter_action") or ""
        custom = (event.get("data") or {}).get("custom") or {}
        if isinstance(custom, dict) and "handoff" in custom:
            outcome = "handoff"
        elif action.startswith("utter_faq/"):
            outcome, row.faq = "answer", action.split("/", 1)[1]
            entry = faq_catalog().get(row.faq)
            row.answered_topic = entry.topic if entry else None
        elif action.startswith("utter_clarify") and outcome == OTHER_REPLY:
            outcome = "clarify"
        elif action == "utter_out_of_scope" and outcome == OTHER_REPLY:
            outcome = "decline"
    row.outcome = outcome


def quiet_logs() -> None:
    """Only warnings and errors from Rasa (its structured log defaults to debug)."""
    from rasa.utils.log_utils import configure_structlog

    logging.basicConfig(level=logging.WARNING)
    for noisy in ("rasa", "tensorflow", "absl"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    configure_structlog(logging.WARNING)


async def run_rows(
    rows: list[Row],
    model: Path,
    action_url: str,
    action_server_exit: Callable[[], int | None] = lambda: None,
) -> None:
    """Send every row as the first message of its own conversation.

    Stops with an error naming the row when the action server has exited: without it
    every later row would be scored as "other reply" and the figures would be wrong.
    """
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    agent = Agent.load(str(model), action_endpoint=EndpointConfig(url=action_url))
    store = agent.tracker_store
    started = time.monotonic()
    for index, row in enumerate(rows):
        sender = f"eval-{index}"
        begin = time.perf_counter()
        await agent.handle_text(row.text, sender_id=sender)
        row.ms = (time.perf_counter() - begin) * 1000
        code = action_server_exit()
        if code is not None:
            raise SystemExit(
                f"error: the action server exited (code {code}) at row {index + 1} of "
                f"{len(rows)}; no figures written. See the action server's log."
            )
        tracker = await store.retrieve(sender)
        classify(row, [e.as_dict() for e in tracker.events] if tracker else [])
        await store.delete(sender) if hasattr(store, "delete") else None
        if (index + 1) % 100 == 0 or index + 1 == len(rows):
            elapsed = time.monotonic() - started
            eta = elapsed / (index + 1) * (len(rows) - index - 1)
            print(
                f"\r  {index + 1}/{len(rows)} messages, {elapsed:.0f} s, about {eta:.0f} s left ",
                end="",
                file=sys.stderr,
                flush=True,
            )
    print(file=sys.stderr)


@dataclass
class Scores:
    """The headline figures."""

    in_scope_accuracy: float
    oos_wrong_answer_rate: float
    human_request_recall: float
    clarify_rate: float
    median_ms: float
    one_click_rate: float = 0.0  # in-scope rows answered right or one button away

    def line(self) -> str:
        """The machine-readable last line."""
        return (
            f"in_scope_accuracy={self.in_scope_accuracy:.2f} "
            f"oos_wrong_answer_rate={self.oos_wrong_answer_rate:.2f} "
            f"human_request_recall={self.human_request_recall:.2f} "
            f"clarify_rate={self.clarify_rate:.2f} "
            f"one_click_rate={self.one_click_rate:.2f}"
        )


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def score(rows: list[Row]) -> Scores:
    """Compute the headline figures."""
    in_scope = [r for r in rows if r.topic != OUT_OF_SCOPE]
    oos = [r for r in rows if r.topic == OUT_OF_SCOPE]
    human = [r for r in rows if r.topic == HUMAN_REQUEST]
    return Scores(
        in_scope_accuracy=_rate(sum(r.correct for r in in_scope), len(in_scope)),
        oos_wrong_answer_rate=_rate(sum(r.outcome == "answer" for r in oos), len(oos)),
        human_request_recall=_rate(sum(r.outcome == "handoff" for r in human), len(human)),
        clarify_rate=_rate(sum(r.outcome == "clarify" for r in rows), len(rows)),
        median_ms=statistics.median(r.ms for r in rows) if rows else 0.0,
        one_click_rate=_rate(sum(r.one_click for r in in_scope), len(in_scope)),
    )


def per_topic_table(rows: list[Row], by: str = "topic") -> list[list[str]]:
    """One line per topic (or per `source`): how many, correct, one click, clarified,
    wrong answer, handoff, declined. On out-of-scope rows "correct" is 0 by design:
    read "wrong answer" there."""
    table = [
        [
            by,
            "rows",
            "correct",
            "one click",
            "clarified",
            "wrong answer",
            "handoff",
            "declined/other",
        ]
    ]
    for key in sorted({getattr(r, by) for r in rows}):
        group = [r for r in rows if getattr(r, by) == key]
        n = len(group)
        cells = [
            sum(r.correct for r in group),
            sum(r.one_click for r in group),
            sum(r.outcome == "clarify" for r in group),
            sum(r.wrong_answer for r in group),
            sum(r.outcome == "handoff" for r in group),
            sum(r.outcome in ("decline", OTHER_REPLY) for r in group),
        ]
        table.append([key or "-", str(n)] + [f"{c} ({_rate(c, n):.0%})" for c in cells])
    return table


def predicted_label(row: Row) -> str:
    """The column of the confusion matrix: the answered topic, or what was done instead."""
    if row.outcome == "answer":
        return row.answered_topic or "answer"
    return row.outcome


def confusion_picture(rows: list[Row], path: Path) -> None:
    """Save a confusion matrix (true topic x what the assistant did) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    truths = sorted({r.topic for r in rows})
    columns = sorted(
        {predicted_label(r) for r in rows} | set(truths) - {OUT_OF_SCOPE, HUMAN_REQUEST}
    )
    counts = [[0] * len(columns) for _ in truths]
    for r in rows:
        counts[truths.index(r.topic)][columns.index(predicted_label(r))] += 1
    shares = [[c / max(1, sum(line)) for c in line] for line in counts]
    fig, ax = plt.subplots(figsize=(1.1 * len(columns) + 3, 0.6 * len(truths) + 2.5))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(columns)), labels=columns, rotation=40, ha="right")
    ax.set_yticks(range(len(truths)), labels=truths)
    for i, line in enumerate(counts):
        for j, count in enumerate(line):
            if count:
                color = "white" if shares[i][j] > 0.5 else "black"
                ax.text(j, i, str(count), ha="center", va="center", color=color, fontsize=8)
    ax.set_xlabel("what the assistant did (answered topic, or clarify / handoff / decline)")
    ax.set_ylabel("true topic")
    ax.set_title("make eval: true topic vs. the assistant's response")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(rows: list[Row], scores: Scores, data: Path, picture: Path) -> str:
    """The report."""
    table = per_topic_table(rows)
    sources = per_topic_table(rows, by="source")
    lines = [
        "# Evaluation of the assistant",
        "",
        f"Data: `{data}` ({len(rows)} messages), model `{MODEL.name}`.",
        "",
        f"- In-scope accuracy: **{scores.in_scope_accuracy:.3f}** (target >= 0.90)",
        "- One click (answered right, or a right suggestion "
        f"offered): **{scores.one_click_rate:.3f}**",
        "- Out-of-scope wrong-answer rate: "
        f"**{scores.oos_wrong_answer_rate:.3f}** (target <= 0.05)",
        f"- Handoff rate on human_request: **{scores.human_request_recall:.3f}**",
        f"- Clarification rate (all rows): {scores.clarify_rate:.3f}",
        f"- Median time per message: {scores.median_ms:.1f} ms",
        "",
        "| " + " | ".join(table[0]) + " |",
        "|" + "---|" * len(table[0]),
    ]
    lines += ["| " + " | ".join(line) + " |" for line in table[1:]]
    lines += ["", "| " + " | ".join(sources[0]) + " |", "|" + "---|" * len(sources[0])]
    lines += ["| " + " | ".join(line) + " |" for line in sources[1:]]
    wrong = [r for r in rows if r.wrong_answer][:25]
    if wrong:
        lines += [
            "",
            "## Wrong answers (first 25)",
            "",
            "| text | topic | answered |",
            "|---|---|---|",
        ]
        lines += [f"| {r.text.replace('|', '/')} | {r.topic} | {r.faq} |" for r in wrong]
    lines += ["", f"![confusion matrix]({picture.name})", ""]
    return "\n".join(lines)


def print_table(table: list[list[str]]) -> None:
    """Print aligned columns."""
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)))


def main(argv: list[str] | None = None) -> int:
    """Evaluate, write the reports, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--limit", type=int, default=0, help="only the first N rows")
    parser.add_argument("--out", type=Path, default=REPORTS)
    args = parser.parse_args(argv)
    rows = read_rows(args.data)
    if args.limit:
        rows = rows[: args.limit]
    if not args.model.exists():
        raise SystemExit(f"error: no trained model at {args.model}: run `make train`")
    quiet_logs()

    from tools.stack.runner import action_service, free_port

    port = free_port()
    actions = action_service(port)
    actions.log_path = args.out / "eval-actions.log"
    actions.start(dict(os.environ))
    try:
        deadline = time.monotonic() + 120
        while not actions.healthy():
            if actions.exit_code() is not None or time.monotonic() > deadline:
                raise SystemExit(f"error: the action server did not start; see {actions.log_path}")
            time.sleep(0.3)
        print(f"Evaluating {len(rows)} messages from {args.data} ...", file=sys.stderr)
        asyncio.run(
            run_rows(rows, args.model, f"http://127.0.0.1:{port}/webhook", actions.exit_code)
        )
    finally:
        actions.stop()

    scores = score(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    picture = args.out / "eval_confusion.png"
    confusion_picture(rows, picture)
    (args.out / "eval.md").write_text(markdown(rows, scores, args.data, picture))
    with (args.out / "eval_rows.jsonl").open("w") as handle:
        for row in rows:
            handle.write(json.dumps(dict(asdict(row), one_click=row.one_click)) + "\n")
    print_table(per_topic_table(rows))
    if any(r.source for r in rows):
        print()
        print_table(per_topic_table(rows, by="source"))
    print(f"median time per message: {scores.median_ms:.1f} ms")
    print(f"report: {args.out / 'eval.md'}, picture: {picture}")
    print(scores.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
