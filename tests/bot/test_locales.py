"""bot/locales: the widget's words, one file per language, checked by make validate."""

from __future__ import annotations

import json

from bot.locales import LOCALES_DIR, check_locales, load_locales


def write(folder, code, words):
    (folder / f"{code}.json").write_text(json.dumps(words), encoding="utf-8")


def test_the_shipped_locales_are_clean_and_english_is_complete():
    assert check_locales() == []
    english = load_locales()["en"]
    assert english["_language"]["dir"] == "ltr"
    # Every t("...") in widget.js is an English word.
    source = (LOCALES_DIR.parent / "static" / "widget.js").read_text(encoding="utf-8")
    import re

    used = set(re.findall(r'\bt\("(\w+)"', source))
    assert used and used <= set(english), used - set(english)


def test_a_language_with_a_wrong_placeholder_or_unknown_word_is_named(tmp_path):
    write(tmp_path, "en", {"_language": {"name": "English", "dir": "ltr"}, "hi": "Hi {name}"})
    write(tmp_path, "he", {"_language": {"name": "עברית", "dir": "rtl"}, "hi": "שלום {nmae}"})
    write(tmp_path, "fa", {"_language": {"name": "فارسی", "dir": "sideways"}, "bye": "x"})
    (tmp_path / "de.json").write_text("{not json", encoding="utf-8")
    problems = "\n".join(check_locales(tmp_path))
    assert 'he.json: "hi" must use the placeholders {name}' in problems
    assert 'fa.json: "bye" is not a word of the widget' in problems
    assert 'fa.json: "_language" needs' in problems
    assert "de.json: invalid JSON" in problems
    # A language may leave words out: they show in English.
    write(tmp_path, "fa", {"_language": {"name": "فارسی", "dir": "rtl"}})
    (tmp_path / "de.json").unlink()
    write(tmp_path, "he", {"_language": {"name": "עברית", "dir": "rtl"}})
    assert check_locales(tmp_path) == []
