"""The shop page and the widget files, through Sanic's test client."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bot_support import bot_settings, desk_settings, unique_name

from bot.app import create_app
from bot.pages import STATIC_DIR
from handoff.hours import ALWAYS_OPEN
from tests.helpers import ROOT


@pytest.fixture
def app(tmp_path: Path):
    return create_app(
        bot_settings("http://127.0.0.1:9"),
        desk_settings(tmp_path),
        name=unique_name(),
        hours=ALWAYS_OPEN,
        background=False,
    )


def test_shop_page_hosts_the_widget_with_one_script_tag_and_a_strict_csp(app):
    _, response = app.test_client.get("/")
    assert response.status == 200
    scripts = re.findall(r"<script[^>]*>", response.text)
    assert scripts == ['<script src="/widget.js" defer>']
    inline = re.search(r"<script[^>]*>[^<]+</script>", response.text)
    assert "</script>" in response.text and inline is None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "Larkspur &amp; Co." in response.text


@pytest.mark.parametrize("path,mime", [("/widget.js", "javascript"), ("/widget.css", "text/css")])
def test_widget_files_are_served(app, path, mime):
    _, response = app.test_client.get(path)
    assert response.status == 200 and mime in response.headers["content-type"]


def test_widget_never_renders_markup():
    source = (STATIC_DIR / "widget.js").read_text()
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source
    assert "document.write" not in source and "eval(" not in source
    for needed in (
        'role: "dialog"',
        'role: "log"',
        '"aria-live"',
        "Escape",
        't("talk_to_person")',  # the words are bot/locales/*.json's
        'dir: "auto"',
        "localStorage",
    ):
        assert needed in source


def test_the_desk_is_served_by_the_same_app(app):
    _, response = app.test_client.get("/desk")
    assert response.status == 200


def test_unknown_api_paths_answer_json(app):
    _, response = app.test_client.post("/api/conversations/abc/nothing")
    assert response.status == 404 and "error" in response.text.lower()


def test_the_widget_is_served_with_the_shop_name_of_the_shop_file(tmp_path):
    shop = tmp_path / "shop.yml"
    text = (ROOT / "shop.yml").read_text(encoding="utf-8")
    shop.write_text(
        text.replace("shop_name: Larkspur & Co.", 'shop_name: Fern "&" Moss</script>'),
        encoding="utf-8",
    )
    app = create_app(
        bot_settings("http://127.0.0.1:9"),
        desk_settings(tmp_path, shop_file=shop),
        name=unique_name(),
        hours=ALWAYS_OPEN,
        background=False,
    )
    _, response = app.test_client.get("/widget.js")
    assert response.status == 200 and "javascript" in response.headers["content-type"]
    # As a JavaScript string literal: quotes escaped, nothing else on the line.
    assert '\n  var SHOP = "Fern \\"&\\" Moss</script>";\n' in response.text
    assert "Larkspur &" not in response.text
    # The widget's own words, from bot/locales/en.json.
    assert '"talk_to_person": "Talk to a person"' in response.text
