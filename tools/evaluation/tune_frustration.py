"""Choose the learned frustration reader's settings by cross-validation on its own examples.

Usage (from the repository root)::

    python -m tools.evaluation.tune_frustration [--folds 5] [--shop-budget 0.02]

Only `data/frustration_examples.csv` is read: no evaluation or held-out set. For each
regularisation strength the model is trained on four folds and reads the fifth, so every
example gets a reading from a model that never saw it. Then:

1. C: the lowest log-loss of those readings;
2. `learned_min_shop`: the lowest value that reads at most `--shop-budget` of the general
   examples as shop messages (the reader is trusted on shop messages only);
3. `learned_min_unhappy`: the best F1 on the shop examples, rules and reader together, a
   calm example counting `--calm-weight` times (most messages in a support chat are calm).

Prints the values to put in `actions/thresholds.py` (and `DEFAULT_C` in
`actions/frustration_model.py`) and the cross-validated figures.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Sequence

import numpy as np

C_CANDIDATES = (0.5, 2.0, 8.0, 32.0)


def _f1(
    gold: np.ndarray, predicted: np.ndarray, calm_weight: float = 1.0
) -> tuple[float, float, float]:
    """F1, precision, recall; every calm message counts `calm_weight` times."""
    tp = float(np.sum(gold & predicted))
    fp = calm_weight * float(np.sum(~gold & predicted))
    precision = tp / max(1.0, tp + fp)
    recall = tp / max(1.0, float(np.sum(gold)))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return f1, precision, recall


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.evaluation.tune_frustration", description=__doc__
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--shop-budget", type=float, default=0.02)
    parser.add_argument(
        "--calm-weight",
        type=float,
        default=2.0,
        help="how many times a calm example counts when choosing the unhappy threshold: "
        "most messages in a support chat are calm (default: 2)",
    )
    args = parser.parse_args(argv)

    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold

    from actions.frustration import FrustrationDetector
    from actions.frustration_model import ComplaintModel, ExamplesError, read_examples
    from actions.thresholds import FRUSTRATION

    try:
        examples = read_examples()
    except ExamplesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    labels = np.array([e.label for e in examples])
    gold = np.array([e.frustrated for e in examples])
    shop_rows = np.array([e.domain == "shop" for e in examples])
    folds = list(
        StratifiedKFold(args.folds, shuffle=True, random_state=0).split(
            np.zeros(len(labels)), labels
        )
    )

    best: tuple[float, float, np.ndarray, np.ndarray] | None = None
    for c in C_CANDIDATES:
        shop = np.zeros(len(examples))
        unhappy = np.zeros(len(examples))
        probabilities = np.zeros((len(examples), 4))
        for train, test in folds:
            model = ComplaintModel(c=c).fit([examples[i] for i in train])
            texts = [examples[i].text for i in test]
            readings = model.read_many(texts)
            shop[test] = [r.shop for r in readings]
            unhappy[test] = [r.unhappy for r in readings]
            probabilities[test] = model.distribution(texts)
        loss = log_loss(labels, probabilities, labels=model.labels)
        print(f"C={c:<5} cross-validated log-loss {loss:.3f}")
        if best is None or loss < best[0]:
            best = (loss, c, shop, unhappy)
    assert best is not None
    _, c, shop, unhappy = best

    general = ~shop_rows
    min_shop = next(
        round(g, 2)
        for g in np.arange(0.05, 1.0, 0.01)
        if np.mean(shop[general] >= g) <= args.shop_budget
    )
    rules = FrustrationDetector(learned=False)
    by_rules = np.array([rules.score(e.text).is_frustrated for e in examples])

    def combined(min_unhappy: float) -> np.ndarray:
        return by_rules | ((shop >= min_shop) & (unhappy >= min_unhappy))

    min_unhappy = max(
        (round(t, 2) for t in np.arange(0.3, 0.96, 0.01)),
        key=lambda t: _f1(gold[shop_rows], combined(t)[shop_rows], args.calm_weight)[0],
    )
    tuned = replace(FRUSTRATION, learned_min_shop=min_shop, learned_min_unhappy=min_unhappy)

    print()
    print(f"chosen: DEFAULT_C = {c}")
    print(f"        learned_min_shop = {tuned.learned_min_shop}")
    print(f"        learned_min_unhappy = {tuned.learned_min_unhappy}")
    print(f"general examples read as shop messages: {np.mean(shop[general] >= min_shop):.3f}")
    for name, rows in (("shop examples", shop_rows), ("general examples", general)):
        for what, predicted in (
            ("rules alone", by_rules),
            ("rules + reader", combined(min_unhappy)),
        ):
            f1, p, r = _f1(gold[rows], predicted[rows])
            print(f"{name:16} {what:15} F1 {f1:.2f}  precision {p:.2f}  recall {r:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
