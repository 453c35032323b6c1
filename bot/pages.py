"""The demo shop page and the widget's files (headers and CSP: ``handoff.web.security``).

widget.js is served with the shop's name of ``shop.yml`` in it (see :func:`widget_script`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Coroutine

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, file, text

from .locales import load_locales

STATIC_DIR = Path(__file__).resolve().parent / "static"
WIDGET_MIME = "application/javascript; charset=utf-8"
# The widget's one line naming the shop, filled from shop.yml when the app starts, and
# its one line of words, filled from bot/locales/*.json.
SHOP_LINE = re.compile(r'^  var SHOP = ".*";$', re.MULTILINE)
LOCALES_LINE = re.compile(r"^  var LOCALES = .*;$", re.MULTILINE)
ASSETS = {
    "widget.css": "text/css; charset=utf-8",
    "shop.css": "text/css; charset=utf-8",
}


# The shop page, widget.js and the assets; each app mounts a copy (handoff.web.serving.mount).
bp = Blueprint("customer_pages")


@bp.get("/")
async def shop(request: Request) -> HTTPResponse:
    return await file(STATIC_DIR / "shop.html", mime_type="text/html; charset=utf-8")


@bp.get("/widget.js", name="widget_js")
async def widget(request: Request) -> HTTPResponse:
    return text(
        request.app.ctx.widget_js,
        content_type=WIDGET_MIME,
        headers={"Cache-Control": "no-cache"},
    )


def _asset_handler(asset: str, mime: str) -> Callable[[Request], Coroutine[Any, Any, HTTPResponse]]:
    async def handler(request: Request) -> HTTPResponse:
        return await file(STATIC_DIR / asset, mime_type=mime, headers={"Cache-Control": "no-cache"})

    return handler


for asset, mime in ASSETS.items():
    bp.add_route(
        _asset_handler(asset, mime), f"/{asset}", methods=["GET"], name=asset.replace(".", "_")
    )


def widget_script(shop_name: str, locales: dict[str, Any] | None = None) -> str:
    """widget.js with the shop's name and the widget's words in it (read once, when the
    app starts; ``locales`` defaults to the files of ``bot/locales``)."""
    source = (STATIC_DIR / "widget.js").read_text(encoding="utf-8")
    filled, count = SHOP_LINE.subn(lambda _: f"  var SHOP = {json.dumps(shop_name)};", source)
    if count != 1:
        raise RuntimeError("widget.js must have exactly one line 'var SHOP = \"...\";'")
    # "</" escaped: the words are data, never the end of a script element.
    words = json.dumps(load_locales() if locales is None else locales, ensure_ascii=False)
    words = words.replace("</", "<\\/")
    filled, count = LOCALES_LINE.subn(lambda _: f"  var LOCALES = {words};", filled)
    if count != 1:
        raise RuntimeError("widget.js must have exactly one line 'var LOCALES = ...;'")
    return filled
