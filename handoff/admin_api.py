"""Admin routes under ``/api/admin`` (403 for agents who are not admins) and the admin
page ``/desk/admin``: agents, teams, saved replies, labels, support hours and the audit
log.

Every change goes through a service method that writes its audit row in the same
transaction, named after the signed-in admin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, file
from sanic.response import json as json_response

from .desk_api import presence
from .http import admin_required, service_of
from .web.errors import ApiError
from .web.requests import int_arg, read_json

STATIC_DIR = Path(__file__).resolve().parent / "static"
admin_bp = Blueprint("handoff_admin", url_prefix="")


def _optional(body: dict[str, Any], key: str, kind: type) -> Any:
    value = body.get(key)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise ApiError(422, f"{key} must be a {'whole number' if kind is int else 'text'}")
    return value


@admin_bp.get("/desk/admin", name="admin_page")
async def admin_page(request: Request) -> HTTPResponse:
    # The page holds no data: everything it shows comes from the routes below, which
    # answer 403 to agents (the page then says so and links back to the desk).
    return await file(STATIC_DIR / "admin.html", mime_type="text/html; charset=utf-8")


@admin_bp.get("/api/admin/agents")
@admin_required
async def list_agents(request: Request) -> HTTPResponse:
    found = await service_of(request).list_agents()
    return json_response(
        {"agents": [{**a.to_json(), "presence": presence(request, a)} for a in found]}
    )


@admin_bp.post("/api/admin/agents")
@admin_required
async def add_agent(request: Request) -> HTTPResponse:
    body = read_json(request, ("login", "name", "password"))
    agent = await service_of(request).create_agent(
        body["login"],
        body["name"],
        body["password"],
        _optional(body, "max_chats", int),
        role=body.get("role", "agent"),
        by=request.ctx.agent,
    )
    return json_response({"agent": agent.to_json()}, status=201)


@admin_bp.patch("/api/admin/agents/<agent_id:int>")
@admin_required
async def change_agent(request: Request, agent_id: int) -> HTTPResponse:
    body = read_json(request)
    agent = await service_of(request).update_agent(
        agent_id,
        name=_optional(body, "name", str),
        max_chats=_optional(body, "max_chats", int),
        role=body.get("role"),
        by=request.ctx.agent,
    )
    return json_response({"agent": agent.to_json()})


@admin_bp.post("/api/admin/agents/<agent_id:int>/deactivate")
@admin_required
async def deactivate_agent(request: Request, agent_id: int) -> HTTPResponse:
    service = service_of(request)
    target = await service.get_agent(agent_id)
    agent = await service.disable_agent(target.login, by=request.ctx.agent)
    return json_response({"agent": agent.to_json()})


@admin_bp.post("/api/admin/agents/<agent_id:int>/password")
@admin_required
async def reset_agent_password(request: Request, agent_id: int) -> HTTPResponse:
    body = read_json(request, ("password",))
    service = service_of(request)
    target = await service.get_agent(agent_id)
    agent = await service.reset_password(target.login, body["password"], by=request.ctx.agent)
    return json_response({"agent": agent.to_json()})


@admin_bp.get("/api/admin/audit")
@admin_required
async def audit(request: Request) -> HTTPResponse:
    before = int_arg(request, "before", 0) or None
    entries = await service_of(request).audit.list_entries(int_arg(request, "limit", 200), before)
    return json_response({"entries": [e.to_json() for e in entries]})


@admin_bp.post("/api/admin/saved-replies")
@admin_required
async def add_reply(request: Request) -> HTTPResponse:
    body = read_json(request, ("shortcut", "title", "text"))
    reply = await service_of(request).replies.create(
        body["shortcut"], body["title"], body["text"], by=request.ctx.agent
    )
    return json_response({"saved_reply": reply.to_json()}, status=201)


@admin_bp.put("/api/admin/saved-replies/<reply_id:int>")
@admin_required
async def change_reply(request: Request, reply_id: int) -> HTTPResponse:
    body = read_json(request, ("shortcut", "title", "text"))
    reply = await service_of(request).replies.update(
        reply_id, body["shortcut"], body["title"], body["text"], by=request.ctx.agent
    )
    return json_response({"saved_reply": reply.to_json()})


@admin_bp.delete("/api/admin/saved-replies/<reply_id:int>")
@admin_required
async def delete_reply(request: Request, reply_id: int) -> HTTPResponse:
    await service_of(request).replies.delete(reply_id, by=request.ctx.agent)
    return json_response({"deleted": True})


@admin_bp.post("/api/admin/labels")
@admin_required
async def add_label(request: Request) -> HTTPResponse:
    body = read_json(request, ("name",))
    label = await service_of(request).labels.create(body["name"], by=request.ctx.agent)
    return json_response({"label": label.to_json()}, status=201)


@admin_bp.delete("/api/admin/labels/<label_id:int>")
@admin_required
async def delete_label(request: Request, label_id: int) -> HTTPResponse:
    await service_of(request).labels.delete(label_id, by=request.ctx.agent)
    return json_response({"deleted": True})


@admin_bp.post("/api/admin/teams")
@admin_required
async def add_team(request: Request) -> HTTPResponse:
    body = read_json(request, ("name",))
    team = await service_of(request).teams.create(body["name"], by=request.ctx.agent)
    return json_response({"team": team.to_json()}, status=201)


@admin_bp.put("/api/admin/teams/<team_id:int>/members")
@admin_required
async def set_team_members(request: Request, team_id: int) -> HTTPResponse:
    body = read_json(request, ("agent_ids",))
    team = await service_of(request).teams.set_members(
        team_id, body["agent_ids"], by=request.ctx.agent
    )
    return json_response({"team": team.to_json()})


@admin_bp.delete("/api/admin/teams/<team_id:int>")
@admin_required
async def delete_team(request: Request, team_id: int) -> HTTPResponse:
    await service_of(request).teams.delete(team_id, by=request.ctx.agent)
    return json_response({"deleted": True})


@admin_bp.get("/api/admin/hours")
@admin_required
async def get_hours(request: Request) -> HTTPResponse:
    return json_response(await service_of(request).office_hours.current())


@admin_bp.put("/api/admin/hours")
@admin_required
async def put_hours(request: Request) -> HTTPResponse:
    body = read_json(request, ("support_hours",))
    found = await service_of(request).office_hours.set_hours(
        body["support_hours"], by=request.ctx.agent
    )
    return json_response(found)


@admin_bp.delete("/api/admin/hours")
@admin_required
async def reset_hours(request: Request) -> HTTPResponse:
    return json_response(await service_of(request).office_hours.reset(by=request.ctx.agent))
