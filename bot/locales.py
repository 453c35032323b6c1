"""The widget's own words, one JSON file per language in ``bot/locales/`` (``en.json`` is
complete; another language may leave words out, which then show in English).

Each file maps a key to a text with ``{placeholders}``; ``_language`` names the language
and its writing direction (``ltr``/``rtl``). :func:`load_locales` reads them once for
widget.js (``bot/pages.py``); :func:`check_locales` is what ``make validate`` runs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
REFERENCE = "en"  # the complete one; every other file is checked against it
META = "_language"
DIRECTIONS = ("ltr", "rtl")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_CODE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")


def load_locales(folder: Path = LOCALES_DIR) -> dict[str, dict[str, Any]]:
    """Every locale file of ``folder`` by language code (``en``, ``he``...)."""
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.json"))
    }


def _placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def check_locales(folder: Path = LOCALES_DIR) -> list[str]:
    """Every problem of the locale files, as ``file: message`` (empty when all is well)."""
    problems: list[str] = []
    documents: dict[str, Any] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            documents[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            problems.append(f"{path}: invalid JSON: {error}")
    reference = documents.get(REFERENCE)
    if not isinstance(reference, dict):
        return problems + [f"{folder / (REFERENCE + '.json')}: the English words are missing"]
    for code, words in documents.items():
        path = folder / f"{code}.json"
        if not _CODE.match(code):
            problems.append(f"{path}: name the file by its language code (en.json, pt-BR.json)")
        if not isinstance(words, dict):
            problems.append(f"{path}: must be a JSON object of key: text")
            continue
        meta = words.get(META)
        if not isinstance(meta, dict) or meta.get("dir") not in DIRECTIONS:
            problems.append(f'{path}: "{META}" needs a "name" and a "dir" of ltr or rtl')
        for key, text in words.items():
            if key == META:
                continue
            if key not in reference:
                problems.append(f'{path}: "{key}" is not a word of the widget ({REFERENCE}.json)')
            elif not isinstance(text, str) or not text.strip():
                problems.append(f'{path}: "{key}" must be a non-empty text')
            elif _placeholders(text) != _placeholders(reference[key]):
                expected = ", ".join(sorted(_placeholders(reference[key]))) or "none"
                problems.append(f'{path}: "{key}" must use the placeholders {{{expected}}}')
    return problems
