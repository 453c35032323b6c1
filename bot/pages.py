"""The demo shop page and the widget's files (headers and CSP: ``handoff.web.security``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Coroutine

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, file

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSETS = {
    "widget.js": "application/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
    "shop.css": "text/css; charset=utf-8",
}


def create_pages_blueprint(name: str = "customer_pages") -> Blueprint:
    """``/`` (the demo shop, hosting the widget with one script tag) and the assets."""
    bp = Blueprint(name)

    @bp.get("/")
    async def shop(request: Request) -> HTTPResponse:
        return await file(STATIC_DIR / "shop.html", mime_type="text/html; charset=utf-8")

    for asset, mime in ASSETS.items():
        bp.add_route(
            _asset_handler(asset, mime), f"/{asset}", methods=["GET"], name=asset.replace(".", "_")
        )
    return bp


def _asset_handler(asset: str, mime: str) -> Callable[[Request], Coroutine[Any, Any, HTTPResponse]]:
    async def handler(request: Request) -> HTTPResponse:
        return await file(STATIC_DIR / asset, mime_type=mime, headers={"Cache-Control": "no-cache"})

    return handler
