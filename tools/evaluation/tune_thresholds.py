"""Choose the FAQ thresholds by measurement: replay `make eval`'s rows under other values.

`make eval` stores each message's NLU result in reports/eval_rows.jsonl. For the rows
the FAQ action handles (intent `faq` or `nlu_fallback`), this re-runs the action's own
decision (`actions.faq_decision.decide`) under a grid of thresholds and prints, for each
setting, in-scope accuracy and one-click rate against the out-of-scope wrong-answer rate.
Pick the most accurate setting whose wrong-answer rate stays under the budget, then write
it into actions/thresholds.py and run `make eval` again to confirm. Run it on the rows of
both development sets (`--rows a.jsonl --rows b.jsonl`): a setting must hold on each.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from actions.content import faq_catalog
from actions.faq_decision import decide
from actions.thresholds import FAQ, FaqThresholds
from tools.evaluation.evaluate import OUT_OF_SCOPE, REPORTS, Row

ROWS = REPORTS / "eval_rows.jsonl"
HANDLED_BY_FAQ_ACTION = ("faq", "nlu_fallback")


def parse_data(row: dict[str, Any]) -> dict[str, Any]:
    """Rebuild the parts of the NLU result that the decision reads."""
    return {
        "intent": {"name": row["intent"], "confidence": row["intent_confidence"]},
        "intent_ranking": row.get("ranking") or [],
        "response_selector": {"faq": {"ranking": row.get("faq_ranking") or []}},
    }


def replayed_row(row: dict[str, Any], thresholds: FaqThresholds) -> Row:
    """The stored row as it would come out under `thresholds`."""
    catalog = faq_catalog()
    result = Row(
        text=row["text"],
        topic=row["topic"],
        outcome=row["outcome"],
        faq=row.get("faq"),
        answered_topic=row.get("answered_topic"),
        accept=row.get("accept") or [],
        suggestions=row.get("suggestions") or [],
    )
    if row.get("intent") in HANDLED_BY_FAQ_ACTION and row["outcome"] in ("answer", "clarify"):
        decision = decide(parse_data(row), thresholds)
        result.outcome = "answer" if decision.answers else "clarify"
        result.faq = decision.key
        result.answered_topic = catalog[decision.key].topic if decision.key in catalog else None
        result.suggestions = [] if decision.answers else [c.key for c in decision.candidates]
    return result


def replay(rows: list[dict[str, Any]], thresholds: FaqThresholds) -> tuple[float, float, float]:
    """(in-scope accuracy, out-of-scope wrong-answer rate, one-click rate)."""
    replayed = [replayed_row(row, thresholds) for row in rows]
    in_scope = [r for r in replayed if r.topic != OUT_OF_SCOPE]
    oos = [r for r in replayed if r.topic == OUT_OF_SCOPE]
    return (
        sum(r.correct for r in in_scope) / max(1, len(in_scope)),
        sum(r.outcome == "answer" for r in oos) / max(1, len(oos)),
        sum(r.one_click for r in in_scope) / max(1, len(in_scope)),
    )


def grid(base: FaqThresholds) -> list[FaqThresholds]:
    """The settings to try."""
    answers = [0.1, 0.15, 0.2, 0.25, 0.3, 0.4]
    margins = [0.0, 0.05, 0.1]
    topics = [0.2, 0.3, 0.4, 0.5]
    intents = [0.3, 0.5, 0.7]
    return [
        replace(
            base,
            min_answer_confidence=a,
            min_margin=m,
            min_topic_confidence=t,
            min_intent_confidence=i,
        )
        for a, m, t, i in itertools.product(answers, margins, topics, intents)
    ]


def main(argv: list[str] | None = None) -> int:
    """Print the best settings under the wrong-answer budget."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--rows",
        type=Path,
        action="append",
        help="eval_rows.jsonl of a `make eval` run (repeatable)",
    )
    parser.add_argument(
        "--max-oos-wrong",
        type=float,
        default=0.03,
        help="wrong-answer budget on out-of-scope rows, on every set",
    )
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)
    sets = []
    for path in args.rows or [ROWS]:
        if not path.exists():
            raise SystemExit(f"error: {path} is missing: run `make eval` first")
        sets.append([json.loads(line) for line in path.read_text().splitlines() if line])

    def show(results: list[tuple[float, float, float]]) -> str:
        return "  |  ".join(
            f"accuracy {a:.3f} one-click {c:.3f} oos wrong {w:.3f}" for a, w, c in results
        )

    print(f"current ({FAQ}):\n  {show([replay(rows, FAQ) for rows in sets])}")
    results = [(t, [replay(rows, t) for rows in sets]) for t in grid(FAQ)]
    allowed = [r for r in results if all(w <= args.max_oos_wrong for _, w, _ in r[1])]
    allowed.sort(key=lambda r: -sum(a for a, _, _ in r[1]))
    print(f"best settings with oos wrong answers <= {args.max_oos_wrong} on every set:")
    for thresholds, figures in allowed[: args.top]:
        print(
            f"  answer>={thresholds.min_answer_confidence:.2f} "
            f"margin>={thresholds.min_margin:.2f} topic>={thresholds.min_topic_confidence:.2f} "
            f"intent>={thresholds.min_intent_confidence:.2f}  {show(figures)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
