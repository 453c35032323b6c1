"""Choose the FAQ thresholds by measurement: replay `make eval`'s rows under other values.

`make eval` stores each message's NLU result in reports/eval_rows.jsonl. For the rows
the FAQ action handles (intent `faq` or `nlu_fallback`), this re-runs the action's own
decision (`actions.faq_decision.decide`) under a grid of thresholds and prints, for each
setting, in-scope accuracy against the out-of-scope wrong-answer rate. Pick the most
accurate setting whose wrong-answer rate stays well under the target, then write it into
actions/thresholds.py and run `make eval` again to confirm.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from actions.content import faq_catalog
from actions.faq_decision import decide
from actions.thresholds import FAQ, FaqThresholds
from tools.evaluate import HUMAN_REQUEST, OUT_OF_SCOPE, REPORTS

ROWS = REPORTS / "eval_rows.jsonl"
HANDLED_BY_FAQ_ACTION = ("faq", "nlu_fallback")


def parse_data(row: Dict[str, Any]) -> Dict[str, Any]:
    """Rebuild the parts of the NLU result that the decision reads."""
    return {
        "intent": {"name": row["intent"], "confidence": row["intent_confidence"]},
        "intent_ranking": row.get("ranking") or [],
        "response_selector": {"faq": {"ranking": row.get("faq_ranking") or []}},
    }


def replay(rows: List[Dict[str, Any]], thresholds: FaqThresholds) -> Tuple[float, float]:
    """(in-scope accuracy, out-of-scope wrong-answer rate) under `thresholds`."""
    catalog = faq_catalog()
    correct = in_scope = oos = oos_answered = 0
    for row in rows:
        outcome, topic = row["outcome"], row.get("answered_topic")
        if row.get("intent") in HANDLED_BY_FAQ_ACTION and outcome in ("answer", "clarify"):
            decision = decide(parse_data(row), thresholds)
            outcome = "answer" if decision.answers else "clarify"
            topic = catalog[decision.key].topic if decision.key in catalog else None
        if row["topic"] == OUT_OF_SCOPE:
            oos += 1
            oos_answered += outcome == "answer"
        else:
            in_scope += 1
            if row["topic"] == HUMAN_REQUEST:
                correct += outcome == "handoff"
            else:
                correct += outcome == "answer" and topic == row["topic"]
    return correct / max(1, in_scope), oos_answered / max(1, oos)


def grid(base: FaqThresholds) -> List[FaqThresholds]:
    """The settings to try."""
    answers = [round(0.05 * i, 2) for i in range(2, 13)]
    margins = [0.0, 0.05, 0.1, 0.15, 0.2, 0.3]
    intents = [0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    return [
        replace(base, min_answer_confidence=a, min_margin=m, min_intent_confidence=i)
        for a, m, i in itertools.product(answers, margins, intents)
    ]


def main(argv: Optional[List[str]] = None) -> int:
    """Print the best settings under the wrong-answer budget."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=Path, default=ROWS)
    parser.add_argument("--max-oos-wrong", type=float, default=0.05,
                        help="wrong-answer budget on out-of-scope rows (target is 0.10)")
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)
    if not args.rows.exists():
        raise SystemExit(f"error: {args.rows} is missing: run `make eval` first")
    rows = [json.loads(line) for line in args.rows.read_text().splitlines() if line]
    current = replay(rows, FAQ)
    print(f"current ({FAQ}): accuracy {current[0]:.3f}, oos wrong answers {current[1]:.3f}")
    results = [(t, *replay(rows, t)) for t in grid(FAQ)]
    allowed = [r for r in results if r[2] <= args.max_oos_wrong]
    allowed.sort(key=lambda r: (-r[1], r[2]))
    print(f"best settings with oos wrong answers <= {args.max_oos_wrong}:")
    for thresholds, accuracy, wrong in allowed[: args.top]:
        print(
            f"  answer>={thresholds.min_answer_confidence:.2f} "
            f"margin>={thresholds.min_margin:.2f} intent>={thresholds.min_intent_confidence:.2f}"
            f"  accuracy {accuracy:.3f}  oos wrong {wrong:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
