"""Measure the per-message frustration detector on a labelled CSV.

Usage (from the repository root)::

    python -m tools.evaluation.eval_frustration [--data PATH] [--report PATH] [--examples N]

The CSV has the columns `text,label,source`; `label` is `frustrated` or `calm`. Prints a
table of precision, recall, F1, accuracy, the confusion counts and the time per message, a
few errors of each kind, and as its last line the machine-readable summary::

    frustration_f1=0.71 precision=0.68 recall=0.74

and writes a markdown report (default `reports/frustration.md`, gitignored).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]  # tools/evaluation/ -> the project
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "eval" / "dev_frustration.csv"
DEFAULT_REPORT = REPO_ROOT / "reports" / "frustration.md"
REQUIRED_COLUMNS = ("text", "label")
LABELS = ("frustrated", "calm")
PROGRESS_EVERY = 250


class DataError(Exception):
    """The evaluation file is missing or malformed (the message names the file)."""


@dataclass
class Outcome:
    """One scored row."""

    text: str
    gold: bool
    predicted: bool
    score: float
    cues: tuple[str, ...]


@dataclass
class Metrics:
    """Confusion counts and the figures derived from them."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    ms_per_message: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        n = self.tp + self.fp + self.fn + self.tn
        return (self.tp + self.tn) / n if n else 0.0

    def summary_line(self) -> str:
        return (
            f"frustration_f1={self.f1:.2f} precision={self.precision:.2f} recall={self.recall:.2f}"
        )


def load_rows(path: Path) -> list[tuple[str, bool]]:
    """(text, is_frustrated) pairs; raises DataError naming the file on any problem."""
    if not path.is_file():
        raise DataError(f"evaluation file not found: {path}")
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise DataError(
                    f"{path}: missing column(s) {', '.join(missing)}; expected "
                    f"text,label,source (found: {', '.join(columns) or 'no header'})"
                )
            rows: list[tuple[str, bool]] = []
            for line_no, row in enumerate(reader, start=2):
                label = (row.get("label") or "").strip().lower()
                if label not in LABELS:
                    raise DataError(
                        f"{path}, line {line_no}: label must be one of "
                        f"{'/'.join(LABELS)}, got {label!r}"
                    )
                rows.append((row.get("text") or "", label == "frustrated"))
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc})") from exc
    except csv.Error as exc:
        raise DataError(f"{path}: malformed CSV ({exc})") from exc
    if not rows:
        raise DataError(f"{path}: no data rows")
    return rows


def evaluate(rows: Sequence[tuple[str, bool]], progress: bool = True) -> Metrics:
    """Score every row with the shared detector and count the outcomes."""
    from actions.frustration import get_detector

    detector = get_detector()
    detector.score("warm-up")  # builds the pipeline; not part of the per-message time
    metrics = Metrics()
    started = time.perf_counter()
    for i, (text, gold) in enumerate(rows, start=1):
        result = detector.score(text)
        predicted = result.is_frustrated
        metrics.outcomes.append(Outcome(text, gold, predicted, result.score, result.cues))
        if gold and predicted:
            metrics.tp += 1
        elif predicted:
            metrics.fp += 1
        elif gold:
            metrics.fn += 1
        else:
            metrics.tn += 1
        if progress and (i % PROGRESS_EVERY == 0 or i == len(rows)) and len(rows) > PROGRESS_EVERY:
            print(f"  scored {i}/{len(rows)}", file=sys.stderr, flush=True)
    metrics.ms_per_message = (time.perf_counter() - started) * 1000 / max(1, len(rows))
    return metrics


def _errors(metrics: Metrics, kind: str, limit: int) -> list[Outcome]:
    """The most confident errors: false positives by highest score, misses by lowest."""
    if kind == "fp":
        chosen = [o for o in metrics.outcomes if o.predicted and not o.gold]
        chosen.sort(key=lambda o: -o.score)
    else:
        chosen = [o for o in metrics.outcomes if o.gold and not o.predicted]
        chosen.sort(key=lambda o: o.score)
    return chosen[:limit]


def _clip(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def table_lines(metrics: Metrics, threshold: float) -> list[str]:
    """The result table as markdown lines (readable in a terminal as well)."""
    return [
        "| metric | value |",
        "|---|---|",
        f"| precision | {metrics.precision:.3f} |",
        f"| recall | {metrics.recall:.3f} |",
        f"| F1 | {metrics.f1:.3f} |",
        f"| accuracy | {metrics.accuracy:.3f} |",
        f"| TP / FP / FN / TN | {metrics.tp} / {metrics.fp} / {metrics.fn} / {metrics.tn} |",
        f"| ms per message | {metrics.ms_per_message:.2f} |",
        f"| threshold | {threshold:.2f} |",
    ]


def error_lines(metrics: Metrics, limit: int) -> list[str]:
    """A few errors of each kind, with score and cues (for tuning)."""
    lines: list[str] = []
    for kind, title in (
        ("fp", "False positives (calm, scored frustrated)"),
        ("fn", "Misses (frustrated, scored calm)"),
    ):
        lines.append(f"### {title}")
        examples = _errors(metrics, kind, limit)
        if not examples:
            lines.append("- none")
        for o in examples:
            cues = ", ".join(o.cues) or "no cues"
            lines.append(f"- {o.score:.2f} [{cues}] {_clip(o.text)}")
        lines.append("")
    return lines


def write_report(path: Path, data: Path, metrics: Metrics, threshold: float, examples: int) -> None:
    """The markdown report (the folder is created if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Frustration detector evaluation",
        "",
        f"Data: `{data}` ({len(metrics.outcomes)} messages). Generated "
        f"{time.strftime('%Y-%m-%d %H:%M:%S')} by `python -m tools.evaluation.eval_frustration`.",
        "",
        *table_lines(metrics, threshold),
        "",
        *error_lines(metrics, examples),
        "`" + metrics.summary_line() + "`",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.evaluation.eval_frustration",
        description="Evaluate the per-message frustration detector on a labelled CSV.",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help=f"CSV with columns text,label,source (default: {DEFAULT_DATA})",
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=DEFAULT_REPORT,
        help=f"markdown report to write (default: {DEFAULT_REPORT})",
    )
    parser.add_argument(
        "--examples", type=int, default=5, help="errors of each kind to show (default: 5)"
    )
    args = parser.parse_args(argv)

    try:
        rows = load_rows(args.data)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from actions.thresholds import FRUSTRATION

    print(f"Scoring {len(rows)} messages from {args.data} ...", file=sys.stderr, flush=True)
    metrics = evaluate(rows)
    print()
    print("\n".join(table_lines(metrics, FRUSTRATION.threshold)))
    print()
    print("\n".join(error_lines(metrics, args.examples)))
    write_report(args.report, args.data, metrics, FRUSTRATION.threshold, args.examples)
    print(f"Report written to {args.report}")
    print(metrics.summary_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
