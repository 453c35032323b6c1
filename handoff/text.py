"""Rules for text and numbers that arrive from outside, shared by every entry point."""

from __future__ import annotations

from typing import Any

# Characters that draw nothing although str.isspace() says they are not blank: zero-width
# space/non-joiner/joiner, word joiner, BOM, Braille blank, Mongolian vowel separator.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u2800\u180e"
_DROP_INVISIBLE = {ord(char): None for char in INVISIBLE}
# Ids are 64-bit integers in both databases: a larger number cannot name a row.
MAX_ID = 2**63 - 1


def is_blank(text: str) -> bool:
    """True when ``text`` would show nothing: only whitespace and invisible characters."""
    return not text.translate(_DROP_INVISIBLE).strip()


def unstorable(text: str) -> str | None:
    """What makes ``text`` impossible to store or send, or None: a UTF-16 surrogate
    (JSON's ``\\ud800``: no UTF-8 for it) or a NUL (PostgreSQL text refuses it)."""
    if "\x00" in text:
        return "a NUL character"
    if any("\ud800" <= char <= "\udfff" for char in text):
        return "a lone surrogate"
    return None


def find_unstorable(value: Any) -> str | None:
    """:func:`unstorable`'s answer for the first bad string in a parsed JSON value
    (keys included), or None when every string can be stored."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            reason = unstorable(item)
            if reason is not None:
                return reason
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def parse_id(raw: Any) -> int | None:
    """A row id given by a client (message, ticket: an int, or ASCII digits in a query
    string) as an int from 0 to :data:`MAX_ID`; None when it is anything else."""
    if isinstance(raw, str):
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
            return None
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_ID:
        return None
    return raw
