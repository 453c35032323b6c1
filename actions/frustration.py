"""Per-message frustration detector: spaCy patterns, VADER sentiment, shouting, punctuation,
and a learned reader of unhappy shop customers (actions/frustration_model.py).

The score is a weighted sum of a few explainable signals, clipped to [0, 1]; the weights and
the decision threshold live in `actions.thresholds.FRUSTRATION`. Every signal that counted is
reported as a short cue string, so the agent who picks up an escalated chat can see *why*.

Nothing is built at import time (rasa-sdk imports every module of the actions package at
start-up): spaCy, VADER and the learned reader are set up on the first call to `score`,
once per process when `get_detector()` is used. The learned reader makes a message upset
that the other signals missed; it never adds to them, so it never hands off at once.

The words and patterns it looks for live in `actions/frustration_words.py`; this module
holds the categories they fall in and how they are weighed.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from actions import frustration_words as words
from actions.thresholds import FRUSTRATION, FrustrationThresholds

if TYPE_CHECKING:  # pragma: no cover - only for type checkers
    from spacy.language import Language
    from spacy.tokens import Doc

    from actions.frustration_model import ComplaintModel

__all__ = ["FrustrationDetector", "FrustrationResult", "get_detector"]


@dataclass(frozen=True)
class FrustrationResult:
    """The frustration score of one message and the cues behind it."""

    #: Weighted sum of the signals, clipped to [0, 1].
    score: float
    #: Short human-readable reasons, e.g. "insult: useless", "shouting: THIS IS BAD".
    cues: tuple[str, ...] = ()
    #: The threshold the score is compared with (kept so the result is self-contained).
    threshold: float = FRUSTRATION.threshold

    @property
    def is_frustrated(self) -> bool:
        """True when the score reaches the frustration threshold."""
        return self.score >= self.threshold


# --- categories ---------------------------------------------------------------------------
# Categories whose own patterns contain a negation ("not helping"): the negation check
# before a cue must not cancel those.
_NEGATION_INCLUDED = {"complaint_neg"}
# Complaint signals read from what happened, not from the customer's words about their
# mood; they are never cancelled by a nearby negation ("for no reason and nobody will").
_POLITE_COMPLAINT = {
    "unanswered",
    "leaving",
    "waiting",
    "elapsed",
    "repeat_contact",
    "broken_promise",
    "loss",
    "sarcasm",
}

# Cue labels the agent reads, per category.
_LABELS: dict[str, str] = {
    "insult": "insult",
    "swearing": "swearing",
    "complaint": "complaint",
    "complaint_neg": "complaint",
    "repetition": "repetition",
    "anger": "anger",
    "dismissive": "dismissive",
    "manager": "wants a manager",
    "unanswered": "complaint",
    "leaving": "threat to leave",
    "waiting": "long wait",
    "repeat_contact": "repeated contact",
    "broken_promise": "broken promise",
    "loss": "loss",
    "elapsed": "long wait",
    "sarcasm": "sarcasm",
}

# The weight (in FrustrationThresholds) of each category that is not its own name.
_WEIGHT_OF = {"complaint_neg": "complaint", "unanswered": "complaint", "elapsed": "waiting"}

# A negation cancels a cue when it is at most this many tokens before it ("not angry").
_NEGATION_WINDOW = 3
# Words for the shouting check, and runs of "!" and "?".
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z']*")
_PUNCT_RE = re.compile(r"[!?]{2,}")
# One capitalised word is emphasis; two in a row is shouting.
_MIN_SHOUT_WORDS = 2


class FrustrationDetector:
    """Scores one customer message for frustration (0 calm .. 1 clearly upset).

    The constructor is cheap; the spaCy pipeline and VADER are built on the first call to
    `score` (thread-safe). Use `get_detector()` to share one instance per process.
    """

    def __init__(
        self,
        thresholds: FrustrationThresholds = FRUSTRATION,
        complaint_model: ComplaintModel | None = None,
        learned: bool = True,
    ) -> None:
        """`complaint_model`: the learned reader to use (default: the shared one, trained
        on first use); `learned=False` scores with the rules alone (for tuning)."""
        self.thresholds = thresholds
        self._model = complaint_model
        self._learned = learned
        self._nlp: Language | None = None
        self._matchers: tuple[Any, ...] | None = None
        self._vader: Any = None
        self._lock = threading.Lock()

    @property
    def is_loaded(self) -> bool:
        """True once the spaCy pipeline and the sentiment analyser have been built."""
        return self._nlp is not None

    def _load(self) -> None:
        """Build the pipeline, the matchers and VADER (first use only)."""
        with self._lock:
            if self._nlp is not None:
                return
            # Imported here, not at module level: importing this module must stay free.
            import spacy
            from spacy.matcher import Matcher, PhraseMatcher
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            nlp = spacy.blank("en")
            # Lookup tables come from the installed spacy-lookups-data package (no download).
            nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
            nlp.initialize()

            phrase_matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
            for category, phrases in words.PHRASES.items():
                phrase_matcher.add(category, list(nlp.pipe([p.lower() for p in phrases])))
            exact_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
            for category, phrases in words.EXACT_PHRASES.items():
                exact_matcher.add(category, [nlp.make_doc(p.lower()) for p in phrases])
            matcher = Matcher(nlp.vocab)
            for category, patterns in words.TOKEN_PATTERNS.items():
                matcher.add(category, patterns)

            vader = SentimentIntensityAnalyzer()
            # Each analyser has its own copy of the lexicon: dropping entries is local.
            # Only negative entries go (positive ones such as "help" keep calming).
            for word in words.SUPPORT_PROBLEM_WORDS:
                if vader.lexicon.get(word, 0.0) < 0:
                    del vader.lexicon[word]

            # A weight of 0 switches the reader off: no training, no time per message.
            self._learned = self._learned and self.thresholds.learned > 0
            if self._learned and self._model is None:
                from actions.frustration_model import get_model

                self._model = get_model()

            self._matchers = (phrase_matcher, exact_matcher, matcher)
            self._vader = vader
            self._nlp = nlp

    # --- signals ---------------------------------------------------------------------------
    def _pattern_cues(self, doc: Doc) -> list[tuple[str, str]]:
        """(category, matched text) for every pattern match not cancelled by a negation."""
        from spacy.tokens import Span
        from spacy.util import filter_spans

        assert self._matchers is not None
        spans = []
        for m in self._matchers:
            for match_id, start, end in m(doc):
                spans.append(Span(doc, start, end, label=match_id))
        found: list[tuple[str, str]] = []
        # Overlapping matches ("pissed" inside "pissed off"): keep the longest one.
        for span in filter_spans(spans):
            category = span.label_
            negation_proof = _NEGATION_INCLUDED | _POLITE_COMPLAINT
            if category not in negation_proof and _negated(doc, span.start):
                continue
            start = span.start
            # Show "doesn't help", not "n't help": the agent reads these.
            if start > 0 and doc[start].lower_ == "n't":
                start -= 1
            found.append((category, doc[start : span.end].text))
        return found

    def _shouting(self, text: str) -> str | None:
        """The longest run of capitalised words (acronyms alone do not count), or None."""
        run_start = run_end = -1
        run_words = 0
        best: tuple[int, int, int] = (0, 0, 0)  # (words, start, end)
        for match in _WORD_RE.finditer(text):
            word = match.group().strip("'")
            if len(word) >= 2 and word.isupper() and word not in words.ACRONYMS:
                if run_words == 0:
                    run_start = match.start()
                run_words += 1
                run_end = match.end()
                if run_words > best[0]:
                    best = (run_words, run_start, run_end)
            elif word.isupper():
                # Acronyms and one-letter capitals ("I AM SO DONE") neither start nor break
                # a run; only shouted words count towards its length.
                continue
            else:
                run_words = 0
        if best[0] < _MIN_SHOUT_WORDS:
            return None
        return text[best[1] : best[2]]

    def _learned_cue(self, text: str) -> str | None:
        """The learned reader's cue when it reads an unhappy shop customer, else None."""
        if not self._learned or self._model is None:
            return None
        t = self.thresholds
        reading = self._model.read(text)
        if reading.shop < t.learned_min_shop or reading.unhappy < t.learned_min_unhappy:
            return None
        return f"learned: unhappy customer ({reading.unhappy:.2f})"

    # --- the score -------------------------------------------------------------------------
    def score(self, text: str) -> FrustrationResult:
        """Score one message; empty or non-text input scores 0."""
        t = self.thresholds
        if not isinstance(text, str) or not text.strip():
            return FrustrationResult(score=0.0, cues=(), threshold=t.threshold)
        if self._nlp is None:
            self._load()
        assert self._nlp is not None

        total = 0.0
        cues: list[str] = []

        # 1. Patterns, lower-cased: the lookup lemmatizer is case-sensitive.
        doc = self._nlp(text.lower())
        seen_categories: set = set()
        seen_texts: set = set()
        polite = 0.0  # polite complaint signals, capped below
        for category, matched in self._pattern_cues(doc):
            label = _LABELS[category]
            key = (label, matched)
            if key in seen_texts:
                continue
            seen_texts.add(key)
            weight = getattr(t, _WEIGHT_OF.get(category, category))
            weight = weight if label not in seen_categories else t.extra_cue
            if category in _POLITE_COMPLAINT:
                polite += weight
            else:
                total += weight
            seen_categories.add(label)
            cues.append(f"{label}: {matched}")

        # Sarcasm: praise at the start with a complaint after it, or praise as a punchline.
        sarcasm = words.SARCASM_RE.search(text) or words.SARCASM_TAIL_RE.search(text)
        if sarcasm and "sarcasm" not in seen_categories:
            polite += t.sarcasm
            seen_categories.add("sarcasm")
            cues.append(f"sarcasm: {_shorten(sarcasm.group(0).strip(), 30)}")
        # A polite complaint alone makes the customer upset (and counts towards a handoff
        # over the conversation), never an immediate handoff: that needs anger or insults.
        total += min(polite, t.polite_complaint_cap)

        # 2. Sentiment: only clearly negative messages count.
        compound = float(self._vader.polarity_scores(text)["compound"])
        negativity = -compound - t.sentiment_floor
        if negativity > 0:
            total += t.sentiment * negativity
            cues.append(f"negative sentiment ({compound:.2f})")

        # 3. Shouting.
        shout = self._shouting(text)
        if shout is not None:
            total += t.shouting
            cues.append(f"shouting: {_shorten(shout)}")

        # 4. Repeated punctuation: "!!" and "?!" weigh more than "??".
        runs = _PUNCT_RE.findall(text)
        if runs:
            strongest = max(runs, key=lambda r: ("!" in r, len(r)))
            total += t.exclamations if "!" in strongest else t.question_marks
            cues.append(f"repeated punctuation: {_shorten(strongest, 8)}")

        # 5. The learned reader (shop messages only) reads the same words again: it lifts a
        # message the signals above left below its weight up to that weight, and never adds
        # to what they found (no double count, so never an immediate handoff on its own).
        if total < t.learned:
            learned = self._learned_cue(text)
            if learned is not None:
                total = t.learned
                cues.append(learned)

        return FrustrationResult(
            score=round(min(1.0, max(0.0, total)), 3), cues=tuple(cues), threshold=t.threshold
        )

    def __call__(self, text: str) -> FrustrationResult:
        return self.score(text)


def _negated(doc: Doc, start: int) -> bool:
    """True when a negation word occurs in the few tokens before `start`, same clause."""
    for i in range(start - 1, max(-1, start - 1 - _NEGATION_WINDOW), -1):
        token = doc[i]
        if token.is_punct:
            return False
        if token.lower_ in words.NEGATIONS or token.lemma_ in words.NEGATIONS:
            return True
    return False


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@lru_cache(maxsize=1)
def get_detector() -> FrustrationDetector:
    """The process-wide detector (built lazily on its first `score`)."""
    return FrustrationDetector()
