"""The desk page and its static files under ``/desk`` (headers and CSP: ``web.security``)."""

from __future__ import annotations

from pathlib import Path

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, file, redirect

STATIC_DIR = Path(__file__).resolve().parent / "static"
DESK_PREFIX = "/desk"

# The desk page and files; each app mounts a copy (web.serving.mount).
bp = Blueprint("handoff_desk")
# ``/`` leads to the desk: only on the desk-only app (the web app's ``/`` is the shop).
root_bp = Blueprint("handoff_desk_root")


@bp.get(DESK_PREFIX, name="handoff_desk_page")
async def desk_page(request: Request) -> HTTPResponse:
    return await file(STATIC_DIR / "index.html", mime_type="text/html; charset=utf-8")


bp.static(f"{DESK_PREFIX}/static", str(STATIC_DIR), name="handoff_desk_static")


@root_bp.get("/", name="handoff_root")
async def root(request: Request) -> HTTPResponse:
    return redirect(DESK_PREFIX)
