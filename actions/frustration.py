"""Per-message frustration detector: spaCy patterns, VADER sentiment, shouting, punctuation,
and a learned reader of unhappy shop customers (actions/frustration_model.py).

The score is a weighted sum of a few explainable signals, clipped to [0, 1]; the weights and
the decision threshold live in `actions.thresholds.FRUSTRATION`. Every signal that counted is
reported as a short cue string, so the agent who picks up an escalated chat can see *why*.

Nothing is built at import time (rasa-sdk imports every module of the actions package at
start-up): spaCy, VADER and the learned reader are set up on the first call to `score`,
once per process when `get_detector()` is used. The learned reader makes a message upset
that the other signals missed; it never adds to them, so it never hands off at once.

The patterns below were written from general knowledge of how upset people write; no text of
the evaluation data is used here.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

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


# --- vocabulary ---------------------------------------------------------------------------
# Single words and fixed phrases, matched on lemmas (the pattern texts go through the same
# pipeline as the messages, so "wasting"/"wasted" and "waste" meet on the lemma "waste").
_PHRASES: dict[str, list[str]] = {
    "insult": [
        "idiot",
        "moron",
        "stupid",
        "dumb",
        "dumbass",
        "useless",
        "incompetent",
        "pathetic",
        "clueless",
        "imbecile",
        "loser",
        "clown",
        "jerk",
        "worthless",
        "brainless",
        "hopeless",
        "braindead",
        "brain dead",
        "piece of junk",
        "piece of garbage",
        "garbage",
        "trash",
        "idiotic",
        "moronic",
        "lame",
        "dipshit",
        "douche",
        "douchebag",
        "twat",
        "dickhead",
        "scumbag",
        "coward",
        "hypocrite",
        "liar",
        "scammer",
        "fool",
        "foolish",
        "childish",
        "immature",
        "arrogant",
        "ignorant",
        "selfish",
        "delusional",
        "spineless",
        "shameless",
        "scum",
        "creep",
        "troll",
        "bigot",
        "nutjob",
        "lunatic",
        "psycho",
        "halfwit",
        "dimwit",
        "numpty",
        "buffoon",
        "prick",
        "wanker",
        "tosser",
        "jackass",
        "dumbass",
        "shithead",
        "dick",
        "cunt",
        "parasite",
        "vile",
        "nasty",
        "disrespectful",
        "condescending",
        "smug",
        "entitled",
        "hypocritical",
        "cowardly",
        "idiocy",
        "stupidity",
        "incompetence",
        "bunch of idiots",
        "amateur",
        "amateurs",
    ],
    "swearing": [
        "fuck",
        "fucking",
        "fucked",
        "fucker",
        "motherfucker",
        "shit",
        "shitty",
        "bullshit",
        "damn",
        "dammit",
        "goddamn",
        "god damn",
        "crap",
        "crappy",
        "bloody hell",
        "piss",
        "asshole",
        "arsehole",
        "bastard",
        "bitch",
        "wtf",
        "ffs",
        "stfu",
        "gtfo",
        "omfg",
        "the hell",
        "the fuck",
        "the heck",
        "screw you",
        "screw this",
        "bs",
        "horseshit",
        "bullcrap",
        "ass",
        "arse",
        "damnit",
        "bollocks",
        "sod off",
        "hell no",
        "to hell",
        "go to hell",
        "effing",
        "frigging",
        "friggin",
        "freaking",
        "fricking",
    ],
    "complaint": [
        "ridiculous",
        "unacceptable",
        "absurd",
        "outrageous",
        "disgraceful",
        "disgrace",
        "disgusting",
        "appalling",
        "unbelievable",
        "insane",
        "nonsense",
        "pointless",
        "suck",
        "sucks",
        "terrible service",
        "awful service",
        "horrible service",
        "poor service",
        "bad service",
        "makes no sense",
        "make no sense",
        "no sense",
        "sick of",
        "tired of",
        "fed up",
        "enough is enough",
        "enough already",
        "never again",
        "you people",
        "of no use",
        "no help",
        "not acceptable",
        "how hard can it be",
        "how hard is it",
        "get your act together",
        "seriously?",
        "terrible",
        "awful",
        "horrible",
        "atrocious",
        "dreadful",
        "abysmal",
        "horrendous",
        "embarrassing",
        "shameful",
        "shame on",
        "lazy",
        "rude",
        "obnoxious",
        "toxic",
        "what a joke",
        "bad joke",
        "laughable",
        "pathetic excuse",
        "lunacy",
        "madness",
        "inexcusable",
        "unforgivable",
        "shocking",
        "infuriating",
        "irresponsible",
        "unprofessional",
        "dishonest",
        "a scam",
        "rip off",
        "ripoff",
        "ripped off",
        "scammed",
        "lied to",
        "ignored",
        "ignoring me",
        "no excuse",
        "not okay",
        "not ok",
        "not cool",
        "get out",
        "let down",
        "stop it",
        "stop this",
        "stop doing",
        "stop being",
        "knock it off",
    ],
    "repetition": [
        "again and again",
        "over and over",
        "over and over again",
        "how many times",
        "how many more times",
        "once again",
        "yet again",
        "every single time",
        "still waiting",
        "still nothing",
        "still no",
        "keep asking",
        "keep telling",
        "keep saying",
        "same thing again",
        "for the last time",
    ],
    "anger": [
        "angry",
        "furious",
        "annoyed",
        "annoying",
        "annoy",
        "annoys",
        "irritating",
        "irritated",
        "irritate",
        "frustrated",
        "frustrating",
        "frustrate",
        "pissed",
        "pissed off",
        "livid",
        "infuriating",
        "infuriate",
        "infuriated",
        "outraged",
        "enraged",
        "fuming",
        "hate",
        "sick and tired",
        "drive me crazy",
        "drive me nuts",
        "drives me crazy",
        "on my nerves",
        "mad at",
        "so mad",
        "fed up with",
        "rage",
        "despise",
        "can't stand",
        "cannot stand",
        "loathe",
        "ugh",
        "argh",
        "smh",
        "jeez",
        "geez",
        "for god's sake",
        "for fuck's sake",
        "for christ's sake",
        "offended",
        "offensive",
        "mad",
        "disgusted",
        "appalled",
        "upset",
        "bitter",
        "resentful",
        "salty",
        "exasperated",
        "exasperating",
        "aggravating",
        "aggravated",
        "annoyance",
        "irritation",
        "outrage",
        "bugs me",
        "bothers me",
        "pisses me off",
        "makes me sick",
        "disturbing",
    ],
    # Polite complaints (no swearing, no shouting) read from what happened to the customer.
    # Strong on their own:
    "unanswered": [
        "nobody replied",
        "nobody has replied",
        "nobody answered",
        "nobody has answered",
        "nobody called",
        "nobody got back",
        "nobody has got back",
        "nobody has bothered",
        "no one replied",
        "no one has replied",
        "no one got back",
        "no one has got back",
        "no one has bothered",
        "no one answered",
        "no one called",
        "nobody responded",
        "no one responded",
        "heard nothing",
        "heard nothing back",
        "no reply",
        "no answer",
        "no response",
        "never heard back",
        "never got back",
        "never replied",
        "still no answer",
        "still no reply",
        "still no update",
        "still nothing",
        "still no refund",
        "still no sign",
        "not impressed",
        "not happy",
        "unhappy",
        "disappointed",
        "disappointing",
        "not good enough",
        "expected better",
        "patience has run out",
        "run out of patience",
        "lost patience",
        "more than patient",
        "been patient",
        "ignored",
        "pointless",
        "shambles",
        "passed around",
        "thanks for nothing",
        "no one seems to",
        "nobody seems to",
        "nobody will",
        "no one will",
        "nobody can",
        "nobody has apologised",
        "had it with",
        "going on for",
        "taking far too long",
        "far too long",
        "way too long",
        "long enough",
        "chasing",
        "should not have to",
        "shouldn't have to",
        "another template",
        "same reply",
        "same answer",
        "same useless",
        "contradict",
        "formal complaint",
        "not acceptable",
        "a nightmare",
        "disaster",
        "nobody told me",
        "without anyone",
        "without telling me",
        "given up",
        "how you treat",
        "actually fix",
        "actually read",
        "same faq",
        "same link",
        "of course it was",
        "so hard to",
        "want it today",
        "gone downhill",
        "wasted my",
        "waste any more",
        "spent an hour",
        "what on earth",
        "wrong again",
        "third wrong",
        "second wrong",
        "a customer for years",
    ],
    # Threats to leave or to take it further.
    "leaving": [
        "never ordering again",
        "never order again",
        "never buy again",
        "never shop here",
        "last time i order",
        "never use you again",
        "going elsewhere",
        "go elsewhere",
        "shop elsewhere",
        "lost a customer",
        "lose a customer",
        "lost a loyal customer",
        "done with this company",
        "done with you",
        "done with this",
        "i'm done",
        "i am done",
        "i'm done with",
        "leave a review",
        "leaving a review",
        "bad review",
        "tell all my friends",
        "telling all my friends",
        "telling everyone",
        "never recommend",
        "not recommend",
        "chargeback",
        "dispute the payment",
        "dispute the charge",
        "trading standards",
        "report you",
        "take legal action",
        "small claims",
        "ombudsman",
        "because of this",
    ],
    # Mild, adding up: time that has passed, and contact repeated.
    "waiting": [
        "for ages",
        "ages ago",
        "for weeks",
        "for months",
        "weeks ago",
        "months ago",
        "a month",
        "since monday",
        "since tuesday",
        "since wednesday",
        "since thursday",
        "since friday",
        "since saturday",
        "since sunday",
        "since last week",
        "since last month",
        "since the start",
        "since the beginning",
        "whole day",
        "all day",
        "on hold",
        "still waiting",
        "still haven't",
        "still hasn't",
        "still not",
        "past the",
        "overdue",
        "it's been",
        "it has been",
        "an hour",
        "whole lunch break",
    ],
    "repeat_contact": [
        # Not a bare "again" ("what was the policy again?"): contact that repeats.
        "yet another",
        "another delay",
        "another week",
        "twice already",
        "already asked",
        "write again",
        "ask again",
        "chase again",
        "happened again",
        "wrong again",
        "asked before",
        "asked about this before",
        "contacted you before",
        "third time",
        "second time",
        "fourth time",
        "keep getting",
        "keep being",
        "keep saying",
        "keep telling",
        "over and over",
        "every time",
        "each time",
        "emailed four times",
        "emailed three times",
        "called three times",
        "start all over",
    ],
    # Told one thing, got another.
    "broken_promise": [
        "you promised",
        "i was promised",
        "was promised",
        "were promised",
        "promised me",
        "was assured",
        "i was assured",
        "so much for",
        "said it would",
        "said it'd",
        "said it will",
        "told me it would",
        "was told it would",
        "was told the",
        "was told last",
        "told me last",
        "supposed to arrive",
        "supposed to be here",
        "supposed to come",
        "supposed to take",
        "meant to arrive",
        "meant to be here",
        "meant to be a",
        "you say it's",
        "you said it",
        "you said you",
    ],
    # Money or goods gone.
    "loss": [
        "never arrived",
        "never came",
        "never turned up",
        "never received",
        "money has gone",
        "money gone",
        "my money",
        "out of pocket",
        "lost money",
        "losing money",
        "nothing to show",
        "kept my money",
        "took my money",
        "taken my money",
        "charged for nothing",
        "without my money",
        "ruined",
        "ruining",
        "soaked",
        "lost my parcel",
        "lost my order",
        "lost my package",
        "never happened",
        "never appeared",
        "gone missing",
        "overcharged",
        "threw my parcel",
        "lost £",
    ],
    "dismissive": [
        "shut up",
        "who cares",
        "nobody cares",
        "no one cares",
        "nobody asked",
        "no one asked",
        "get over it",
        "grow up",
        "give me a break",
        "get a life",
        "go away",
        "leave me alone",
        "cut it out",
        "stop it",
        "knock it off",
        "how dare",
        "get lost",
        "piss off",
        "back off",
        "spare me",
        "give it a rest",
        "get real",
        "stop whining",
        "quit whining",
        "stop crying",
    ],
}

# Words the lookup tables lemmatize surprisingly ("worst" -> "wrong"): matched on LOWER.
_EXACT_PHRASES: dict[str, list[str]] = {
    # The lookup tables lemmatize "resend" as "resent".
    "anger": ["resent", "resented", "resentment"],
    "complaint": [
        "worst",
        "the worst",
        "worst service",
        "epic fail",
        "had enough",
        "'ve had enough",
        "have had enough",
    ],
}

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

# Token patterns where word order or inflection needs more than a fixed phrase. Messages
# are lower-cased before matching (the lookup lemmatizer does not lemmatize "WASTING"), and
# the lookup tables lemmatize "does" as "doe", so auxiliaries are matched on LOWER.
_AUX = [
    "do",
    "does",
    "did",
    "is",
    "are",
    "was",
    "were",
    "has",
    "have",
    "had",
    "will",
    "wo",
    "would",
    "could",
    "can",
    "ca",
    "'s",
    "'re",
    "am",
    "'m",
    "be",
]
_NEG = ["not", "n't", "never"]
# A count of days, weeks...: digits or words.
_COUNT = (
    r"^(\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|several|"
    r"many|few)$"
)
_TOKEN_PATTERNS: dict[str, list[list[dict[str, Any]]]] = {
    "repetition": [
        # "I already told you", "I've already explained", "as I already said"
        [
            {"LOWER": "already"},
            {
                "LEMMA": {
                    "IN": [
                        "tell",
                        "say",
                        "explain",
                        "mention",
                        "answer",
                        "ask",
                        "write",
                        "send",
                        "give",
                        "repeat",
                    ]
                }
            },
        ],
        # "for the third time", "for the 5th time"
        [
            {"LOWER": "for"},
            {"LOWER": "the"},
            {
                "LOWER": {
                    "IN": [
                        "third",
                        "fourth",
                        "fifth",
                        "sixth",
                        "tenth",
                        "hundredth",
                        "millionth",
                        "nth",
                        "umpteenth",
                        "3rd",
                        "4th",
                        "5th",
                        "10th",
                        "100th",
                        "1000th",
                        "twentieth",
                        "fiftieth",
                    ]
                }
            },
            {"LOWER": "time"},
        ],
        # "I keep getting the same ...", "I have asked three times"
        [
            {"LEMMA": {"IN": ["ask", "tell", "call", "write", "email", "contact", "try"]}},
            {"LOWER": {"IN": ["you", "them", "this", "it"]}, "OP": "?"},
            {
                "LOWER": {
                    "IN": [
                        "three",
                        "four",
                        "five",
                        "ten",
                        "several",
                        "multiple",
                        "many",
                        "countless",
                        "twenty",
                        "a",
                        "dozens",
                        "hundreds",
                        "million",
                    ]
                }
            },
            {"LOWER": {"IN": ["times", "dozen", "million"]}},
        ],
    ],
    "complaint_neg": [
        # "not helping", "doesn't help", "that did not help at all", "not helpful"
        [
            {"LOWER": {"IN": _NEG}},
            {"LOWER": {"IN": ["really", "even", "very", "at", "all"]}, "OP": "*"},
            {
                "LOWER": {
                    "IN": [
                        "help",
                        "helping",
                        "helped",
                        "helpful",
                        "useful",
                        "listening",
                        "listen",
                        "acceptable",
                        "okay",
                        "ok",
                        "funny",
                        "fair",
                    ]
                }
            },
        ],
        # "you never answer", "you don't listen", "you don't care"
        [
            {"LOWER": {"IN": ["you", "they", "u"]}},
            {"LOWER": {"IN": _AUX}, "OP": "?"},
            {"LOWER": {"IN": _NEG}},
            {"LOWER": {"IN": ["even", "really", "ever", "actually"]}, "OP": "?"},
            {
                "LEMMA": {
                    "IN": [
                        "care",
                        "listen",
                        "read",
                        "understand",
                        "answer",
                        "respond",
                        "reply",
                        "get",
                    ]
                }
            },
        ],
        [{"LOWER": {"IN": ["nobody", "noone"]}}, {"LEMMA": {"IN": ["care", "listen"]}}],
        # "I don't care", "I could not care less"
        [
            {"LOWER": "i"},
            {"LOWER": {"IN": _AUX}},
            {"LOWER": {"IN": _NEG}},
            {"LOWER": {"IN": ["even", "really"]}, "OP": "?"},
            {"LOWER": "care"},
        ],
    ],
    "complaint": [
        # "a waste of time", "wasting my time", "wasted our money"
        [
            {"LEMMA": "waste"},
            {
                "LOWER": {
                    "IN": [
                        "of",
                        "my",
                        "our",
                        "your",
                        "so",
                        "much",
                        "so",
                        "the",
                        "their",
                        "everyone",
                        "everyone's",
                        "people",
                        "people's",
                        "'s",
                    ]
                },
                "OP": "*",
            },
            {"LOWER": {"IN": ["time", "money", "life", "breath", "space", "oxygen"]}},
        ],
        # "are you kidding", "you've got to be kidding me", "are you serious"
        [
            {"LOWER": {"IN": ["you", "u"]}},
            {"LOWER": {"IN": _AUX + ["got", "gotta", "to"]}, "OP": "*"},
            {"LOWER": {"IN": ["kidding", "joking", "kiddin", "serious"]}},
        ],
        # "this is a joke", "what an absolute joke", "such a mess"
        [
            {"LOWER": {"IN": ["a", "an", "such", "what"]}},
            {
                "LOWER": {
                    "IN": [
                        "absolute",
                        "total",
                        "complete",
                        "utter",
                        "fucking",
                        "bloody",
                        "sick",
                        "bad",
                        "freaking",
                        "a",
                    ]
                },
                "OP": "*",
            },
            {
                "LOWER": {
                    "IN": [
                        "joke",
                        "farce",
                        "nightmare",
                        "disaster",
                        "circus",
                        "shitshow",
                        "clusterfuck",
                        "mess",
                    ]
                }
            },
        ],
        # "what is wrong with you", "what's wrong with people"
        [
            {"LOWER": "what"},
            {"LOWER": {"IN": ["is", "'s", "s"]}, "OP": "?"},
            {"LOWER": "wrong"},
            {"LOWER": "with"},
        ],
        # "why would anyone ...", "why the hell", "why do you always"
        [
            {"LOWER": "why"},
            {"LOWER": {"IN": ["would", "the", "do", "does", "is", "are", "can", "ca", "cant"]}},
            {
                "LOWER": {
                    "IN": [
                        "anyone",
                        "anybody",
                        "hell",
                        "fuck",
                        "you",
                        "they",
                        "people",
                        "it",
                        "this",
                    ]
                }
            },
            # no plain "not": "why is it not working?" is a support question
            {"LOWER": {"IN": ["always", "even", "never", "still", "keep"]}},
        ],
    ],
    "swearing": [
        # inflections and compounds ("fuckin", "shitshow"), and masked swearing ("f*ck")
        [
            {
                "LOWER": {
                    "REGEX": r"^(fu+ck|f\*+k|f[\*#@]+ck|sh[\*#@]+t|shit|bullsh|horsesh|"
                    r"motherf|dumbass|jackass|asshat|dipsh|piss|bitch|damn)"
                }
            }
        ],
    ],
    "manager": [
        # "let me speak to a manager", "I want your supervisor"
        [
            {
                "LEMMA": {
                    "IN": [
                        "speak",
                        "talk",
                        "get",
                        "want",
                        "need",
                        "see",
                        "call",
                        "escalate",
                        "demand",
                    ]
                }
            },
            {"LOWER": {"IN": ["to", "with", "me", "this", "it"]}, "OP": "*"},
            {"LOWER": {"IN": ["a", "an", "your", "the", "my", "someone", "somebody"]}, "OP": "*"},
            {"LOWER": {"IN": ["manager", "supervisor", "boss", "superior", "management"]}},
        ],
        # "I want to file a complaint"
        [
            {"LEMMA": {"IN": ["file", "make", "lodge", "submit", "raise", "write", "open"]}},
            {"LOWER": {"IN": ["a", "an", "another", "formal", "official"]}, "OP": "*"},
            {"LEMMA": "complaint"},
        ],
    ],
    "leaving": [
        # "never ordering from you again", "won't be buying anything here again"
        [
            {"LOWER": {"IN": ["never", "not", "n't"]}},
            {"LOWER": "be", "OP": "?"},
            {"LEMMA": {"IN": ["order", "buy", "shop", "use", "come", "recommend"]}},
            {"IS_ALPHA": True, "OP": "*"},
            {"LOWER": "again"},
        ],
    ],
    "elapsed": [
        # "3 weeks", "two months", "16 days", "45 minutes" (not "2 days delivery"?: a count
        # of time alone is mild and only adds up with other signals)
        [
            {"LOWER": {"REGEX": _COUNT}},
            {"LOWER": {"IN": ["days", "weeks", "months", "hours", "minutes"]}},
        ],
        # "day 19", "we're on day nineteen", "a fortnight"
        [{"LOWER": "day"}, {"LOWER": {"REGEX": _COUNT}}],
        [{"LOWER": "fortnight"}],
        # "since the 3rd", "since March"
        [
            {"LOWER": "since"},
            {"LOWER": "the", "OP": "?"},
            {
                "LOWER": {
                    "REGEX": r"^(\d+(st|nd|rd|th)?|january|february|march|april|may|june|"
                    r"july|august|september|october|november|december|christmas)$"
                }
            },
        ],
    ],
    "anger": [
        # "I am so angry", "this makes me sick", "it drives me mad"
        [
            {"LEMMA": {"IN": ["make", "drive", "get", "piss"]}},
            {"LOWER": "me"},
            {"LOWER": {"IN": ["so", "really", "very", "absolutely", "fucking"]}, "OP": "*"},
            {
                "LOWER": {
                    "IN": [
                        "sick",
                        "mad",
                        "crazy",
                        "nuts",
                        "insane",
                        "furious",
                        "angry",
                        "livid",
                        "rage",
                        "off",
                        "want",
                    ]
                }
            },
        ],
    ],
}

# Tokens that cancel a cue when they appear shortly before it ("I'm not angry").
_NEGATIONS = {"not", "n't", "never", "no", "hardly", "barely", "without", "nothing"}
_NEGATION_WINDOW = 3

# Words VADER counts as negative that, in a support chat, describe the problem and not the
# customer's mood: "I lost my password", "the parcel arrived damaged" are plain questions.
_SUPPORT_PROBLEM_WORDS = (
    "lost",
    "lose",
    "loses",
    "losing",
    "damaged",
    "damage",
    "damages",
    "missing",
    "broken",
    "break",
    "breaks",
    "error",
    "errors",
    "failed",
    "fail",
    "fails",
    "failing",
    "failure",
    "charged",
    "charge",
    "charges",
    "stolen",
    "steal",
    "cancel",
    "cancelled",
    "canceled",
    "cancelling",
    "canceling",
    "cancellation",
    "rejected",
    "reject",
    "delayed",
    "delay",
    "delays",
    "stuck",
    "declined",
    "decline",
    "forgot",
    "forgotten",
    "forget",
    "owe",
    "owed",
    "debt",
    "refund",
    "expired",
    "locked",
    "blocked",
    "block",
    "dispute",
    "problem",
    "problems",
    "issue",
    "issues",
    "trouble",
    "troubles",
    "wrong",
    "defective",
    "leak",
    "leaking",
    "crash",
    "crashed",
    "crashes",
    "fraud",
    "unauthorized",
    "late",
    "sorry",
    "urgent",
    "emergency",
    "worried",
    "worry",
    "confused",
    "pay",
)

# Capitalised words that are acronyms, not shouting ("my UPS tracking number").
_ACRONYMS = {
    "UPS",
    "DHL",
    "USPS",
    "DPD",
    "GLS",
    "TNT",
    "PIN",
    "PUK",
    "ID",
    "IDS",
    "FAQ",
    "PDF",
    "URL",
    "API",
    "SMS",
    "OTP",
    "CVV",
    "CVC",
    "IBAN",
    "BIC",
    "SWIFT",
    "VAT",
    "EU",
    "UK",
    "US",
    "USA",
    "EUR",
    "USD",
    "GBP",
    "OK",
    "PC",
    "TV",
    "ETA",
    "ASAP",
    "FYI",
    "IT",
    "HR",
    "CEO",
    "PM",
    "AM",
    "NYC",
    "LA",
    "DC",
    "NBA",
    "NFL",
    "NHL",
    "MLB",
    "UFC",
    "FIFA",
    "UEFA",
    "GPS",
    "USB",
    "HDMI",
    "SSD",
    "CPU",
    "GPU",
    "RAM",
    "ROM",
    "DVD",
    "CD",
    "LED",
    "LCD",
    "HTML",
    "CSS",
    "JSON",
    "XML",
    "SQL",
    "AI",
    "ML",
    "VPN",
    "WIFI",
    "IP",
    "DNS",
    "ISP",
    "NASA",
    "FBI",
    "CIA",
    "NSA",
    "BBC",
    "CNN",
    "NBC",
    "ABC",
    "HBO",
    "MTV",
    "IRS",
    "NHS",
    "LOL",
    "LMAO",
    "OMG",
    "TIL",
    "AMA",
    "IMO",
    "IMHO",
    "TBH",
    "BTW",
    "IIRC",
    "TLDR",
    "NSFW",
    "NPC",
    "MVP",
    "GOAT",
    "RIP",
    "DIY",
    "FAQS",
    "PST",
    "EST",
    "UTC",
    "GMT",
    "SKU",
    "QR",
    "NAME",
    "II",
    "III",
    "IV",
    "VI",
    "VII",
    "VIII",
    "IX",
    "XI",
    "XL",
    "XXL",
    "XS",
}
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z']*")
# Praise that opens a message and is followed by a complaint: "Great, another automated
# answer", "Oh wonderful, the link doesn't work". Not when thanks follow ("Great, thanks").
_SARCASM_RE = re.compile(
    r"^\s*(oh\s+)?(great|brilliant|fantastic|wonderful|lovely|perfect|superb|cheers|"
    r"thanks a lot|thanks so much|nice one|just great|typical)\b\s*[,.!]+\s*"
    r"(?!(thank|thanks|cheers|that|it|i'll|you|have)\b)(\w+)",
    re.IGNORECASE,
)
_SARCASM_TAIL_RE = re.compile(
    r"^(?!.*\bthank).*\b(really helpful|very helpful|just what i needed|how helpful|"
    r"typical)\b[.!]*\s*$",
    re.IGNORECASE,
)
_PUNCT_RE = re.compile(r"[!?]{2,}")
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
            for category, phrases in _PHRASES.items():
                phrase_matcher.add(category, list(nlp.pipe([p.lower() for p in phrases])))
            exact_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
            for category, phrases in _EXACT_PHRASES.items():
                exact_matcher.add(category, [nlp.make_doc(p.lower()) for p in phrases])
            matcher = Matcher(nlp.vocab)
            for category, patterns in _TOKEN_PATTERNS.items():
                matcher.add(category, patterns)

            vader = SentimentIntensityAnalyzer()
            # Each analyser has its own copy of the lexicon: dropping entries is local.
            # Only negative entries go (positive ones such as "help" keep calming).
            for word in _SUPPORT_PROBLEM_WORDS:
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
            if len(word) >= 2 and word.isupper() and word not in _ACRONYMS:
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
        sarcasm = _SARCASM_RE.search(text) or _SARCASM_TAIL_RE.search(text)
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
        if token.lower_ in _NEGATIONS or token.lemma_ in _NEGATIONS:
            return True
    return False


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@lru_cache(maxsize=1)
def get_detector() -> FrustrationDetector:
    """The process-wide detector (built lazily on its first `score`)."""
    return FrustrationDetector()
