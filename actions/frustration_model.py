"""A learned reader of unhappy shop customers, trained on examples written for this project.

One logistic regression over character and word n-grams reads two things at once, as four
labels: whether a message is written *to a shop about an order, a delivery, money or the
service* (`shop-*`) or is general talk (`general-*`), and whether its writer is unhappy
(`*-frustrated`) or calm (`*-calm`). The detector (`actions/frustration.py`) trusts its
"unhappy" reading only on messages it reads as shop messages: measured, a model trained on
a thousand hand-written examples reads polite shop complaints well ("I was told Monday.
It's Thursday.") and general comments badly (README, "Frustration"), so elsewhere the
rules decide alone.

The examples live in `data/frustration_examples.csv` (`text,label,source`; `label` is
`frustrated` or `calm`, `source` ends in `-shop` or `-general`). Training takes one to
six seconds and happens on first use (`get_model()`), nothing at import time (rasa-sdk
imports every module of this package at start-up). The fitted model is kept in `var/`
under a name made from the examples' bytes: no model file to ship or keep in step with
the data, and a restarted action server reads it instead of training again.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import pickle
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

__all__ = [
    "EXAMPLES_PATH",
    "ComplaintModel",
    "ComplaintReading",
    "Example",
    "ExamplesError",
    "get_model",
    "read_examples",
]

EXAMPLES_PATH = Path(__file__).resolve().parent.parent / "data" / "frustration_examples.csv"
LABELS = ("frustrated", "calm")
DOMAINS = ("shop", "general")
#: Regularisation of the logistic regression (chosen by cross-validation on the examples,
#: `python -m tools.evaluation.tune_frustration`).
DEFAULT_C = 8.0


class ExamplesError(ValueError):
    """The examples file is missing or malformed; the message reads `file:line: problem`."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        self.path, self.line, self.problem = path, line, problem
        super().__init__(f"{path}:{line}: {problem}" if line else f"{path}: {problem}")


@dataclass(frozen=True)
class Example:
    """One labelled message."""

    text: str
    frustrated: bool
    #: "shop" (written to the shop) or "general" (any other talk).
    domain: str

    @property
    def label(self) -> str:
        """The model's label: domain and mood, e.g. "shop-frustrated"."""
        return f"{self.domain}-{'frustrated' if self.frustrated else 'calm'}"


@dataclass(frozen=True)
class ComplaintReading:
    """What the model reads in one message."""

    #: Probability that the message is written to the shop (about an order, money, ...).
    shop: float
    #: Probability that the writer is unhappy, *given* a shop message.
    unhappy: float


def read_examples(path: Path = EXAMPLES_PATH) -> list[Example]:
    """The labelled examples of a `text,label,source` CSV; ExamplesError on any problem."""
    if not path.is_file():
        raise ExamplesError(path, None, "examples file not found")
    examples: list[Example] = []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in ("text", "label", "source") if c not in (reader.fieldnames or [])]
            if missing:
                raise ExamplesError(path, 1, f"missing column(s) {', '.join(missing)}")
            for line_no, row in enumerate(reader, start=2):
                text = (row.get("text") or "").strip()
                label = (row.get("label") or "").strip().lower()
                domain = (row.get("source") or "").strip().lower().rsplit("-", 1)[-1]
                if not text:
                    raise ExamplesError(path, line_no, "empty text")
                if label not in LABELS:
                    raise ExamplesError(
                        path, line_no, f"label must be one of {'/'.join(LABELS)}, got {label!r}"
                    )
                if domain not in DOMAINS:
                    raise ExamplesError(
                        path,
                        line_no,
                        f"source must end in {' or '.join('-' + d for d in DOMAINS)}, "
                        f"got {row.get('source')!r}",
                    )
                examples.append(Example(text, label == "frustrated", domain))
    except UnicodeDecodeError as exc:
        raise ExamplesError(path, None, f"not UTF-8 text ({exc})") from exc
    except csv.Error as exc:
        raise ExamplesError(path, None, f"malformed CSV ({exc})") from exc
    labels = {e.label for e in examples}
    absent = [f"{d}-{m}" for d in DOMAINS for m in LABELS if f"{d}-{m}" not in labels]
    if absent:
        raise ExamplesError(path, None, f"no examples labelled {', '.join(absent)}")
    return examples


class ComplaintModel:
    """Logistic regression over character and word n-grams; four labels (domain x mood)."""

    def __init__(self, c: float = DEFAULT_C) -> None:
        self.c = c
        self._pipeline: Any = None
        self._columns: dict[str, int] = {}

    def _new_pipeline(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        # Character n-grams survive typos and inflections ("dissapointed", "waited");
        # word n-grams keep phrases ("no reply", "you said"), "!" and "?" count as words.
        features = make_union(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            TfidfVectorizer(
                analyzer="word",
                ngram_range=(1, 2),
                sublinear_tf=True,
                token_pattern=r"(?u)\b\w+\b|[!?]",
            ),
        )
        return make_pipeline(features, LogisticRegression(C=self.c, max_iter=3000))

    def fit(self, examples: Sequence[Example]) -> ComplaintModel:
        """Learn from labelled examples (every domain and mood must occur)."""
        labels = [e.label for e in examples]
        expected = {f"{d}-{m}" for d in DOMAINS for m in LABELS}
        if set(labels) != expected:
            raise ValueError(f"examples of every label are needed: {sorted(expected)}")
        pipeline = self._new_pipeline()
        pipeline.fit([e.text for e in examples], labels)
        self._columns = {label: i for i, label in enumerate(pipeline.classes_)}
        self._pipeline = pipeline
        return self

    @property
    def is_fitted(self) -> bool:
        """True once `fit` has run."""
        return self._pipeline is not None

    @property
    def labels(self) -> list[str]:
        """The four labels, in the column order of `distribution`."""
        return sorted(self._columns, key=self._columns.__getitem__)

    def distribution(self, texts: Sequence[str]) -> Any:
        """The probability of every label (columns as `labels`), one row per text."""
        if self._pipeline is None:
            raise RuntimeError("the model is not trained: call fit() first")
        return self._pipeline.predict_proba(list(texts))

    def read_many(self, texts: Iterable[str]) -> list[ComplaintReading]:
        """One reading per text (batch form of `read`)."""
        texts = list(texts)
        if not texts:
            return []
        col = self._columns
        readings = []
        for row in self.distribution(texts):
            shop_unhappy = float(row[col["shop-frustrated"]])
            shop = shop_unhappy + float(row[col["shop-calm"]])
            unhappy = shop_unhappy / shop if shop else 0.0
            readings.append(ComplaintReading(shop=shop, unhappy=unhappy))
        return readings

    def read(self, text: str) -> ComplaintReading:
        """How shop-like the message is, and how unhappy if it is a shop message."""
        return self.read_many([text])[0]


_LOCK = threading.Lock()
#: Where a fitted model is kept between runs (``ACTIONS_CACHE_DIR``, default `var/`).
CACHE_DIR = Path(__file__).resolve().parent.parent / "var"
logger = logging.getLogger(__name__)


def cache_path(examples_path: Path, cache_dir: Path, c: float = DEFAULT_C) -> Path:
    """The file a model fitted on these examples is kept in: named by the examples'
    bytes, C and the scikit-learn version, so any change to them trains anew."""
    import sklearn

    digest = hashlib.sha256(examples_path.read_bytes())
    digest.update(f"{c}|{sklearn.__version__}".encode())
    return cache_dir / f"frustration-reader-{digest.hexdigest()[:16]}.pickle"


def load_or_fit(examples_path: Path, cache_dir: Path | None) -> ComplaintModel:
    """The model fitted on ``examples_path``: read from ``cache_dir`` when it was fitted
    before (a restarted action server is ready in a fraction of a second instead of the
    seconds training takes on a busy machine), else fitted now and kept there."""
    if cache_dir is None:
        return ComplaintModel().fit(read_examples(examples_path))
    path = cache_path(examples_path, cache_dir)
    try:
        with path.open("rb") as kept:
            model = pickle.load(kept)  # our own file, written below
        if isinstance(model, ComplaintModel) and model.is_fitted:
            return model
    except FileNotFoundError:
        pass
    except Exception:  # a damaged or foreign file: train again and replace it
        logger.warning("frustration reader cache %s unreadable; training again", path)
    model = ComplaintModel().fit(read_examples(examples_path))
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=cache_dir, delete=False) as fresh:
            pickle.dump(model, fresh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(fresh.name, path)  # whole or not at all, even with two servers
    except OSError:  # a read-only folder costs only the next start's training time
        logger.warning("could not keep the frustration reader in %s", cache_dir)
    return model


@lru_cache(maxsize=1)
def _trained_default() -> ComplaintModel:
    folder = os.environ.get("ACTIONS_CACHE_DIR")
    return load_or_fit(EXAMPLES_PATH, Path(folder) if folder else CACHE_DIR)


def get_model() -> ComplaintModel:
    """The process-wide model, fitted on `data/frustration_examples.csv` on first use (or
    read from the cache in `var/` when those examples were fitted before)."""
    with _LOCK:  # one training per process even when two threads ask at once
        return _trained_default()
