"""Desk tools for every agent, under ``/api/agent``: saved replies (read), private notes,
labels on conversations, teams and colleagues (read), transfer, search and read-only
history. Who may touch a conversation is ``policy.can_view`` (through
:func:`~handoff.http.visible_conversation`), as for the rest of the agent API.
"""

from __future__ import annotations

import datetime as dt

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from .http import (
    agent_required,
    annotatable_conversation,
    service_of,
    visible_conversation,
)
from .policy import may_read_history
from .presence import TYPING_INTERVAL_SECONDS, presence_of
from .service import Agent
from .service.search import SearchQuery
from .web.errors import ApiError
from .web.requests import int_arg, read_json

desk_bp = Blueprint("handoff_desk_tools", url_prefix="/api/agent")
MAX_LABEL_LOOKUP = 200


@desk_bp.get("/saved-replies")
@agent_required
async def saved_replies(request: Request) -> HTTPResponse:
    found = await service_of(request).replies.list_replies()
    return json_response({"saved_replies": [r.to_json() for r in found]})


@desk_bp.get("/conversations/<conversation_id:str>/saved-replies")
@agent_required
async def saved_replies_for(request: Request, conversation_id: str) -> HTTPResponse:
    await visible_conversation(request, conversation_id)
    service = service_of(request)
    # An anonymous customer has no name: {customer_name} stays in the text, selected in
    # the reply box, for the agent to fill in (a guessed "there" would read wrong).
    customer_name = await service.customer_name(conversation_id)
    found = await service.replies.for_conversation(request.ctx.agent.name, customer_name)
    return json_response({"saved_replies": [r.to_json() for r in found]})


@desk_bp.get("/conversations/<conversation_id:str>/notes")
@agent_required
async def notes_of(request: Request, conversation_id: str) -> HTTPResponse:
    await annotatable_conversation(request, conversation_id)
    found = await service_of(request).notes.notes_of(conversation_id)
    return json_response({"notes": [n.to_json() for n in found]})


@desk_bp.post("/conversations/<conversation_id:str>/notes")
@agent_required
async def add_note(request: Request, conversation_id: str) -> HTTPResponse:
    body = read_json(request, ("text",))
    await annotatable_conversation(request, conversation_id)
    note = await service_of(request).notes.add_note(
        conversation_id, request.ctx.agent, body["text"]
    )
    return json_response({"note": note.to_json()}, status=201)


@desk_bp.get("/labels")
@agent_required
async def all_labels(request: Request) -> HTTPResponse:
    found = await service_of(request).labels.list_labels()
    return json_response({"labels": [label.to_json() for label in found]})


@desk_bp.get("/queue-details")
@agent_required
async def queue_details(request: Request) -> HTTPResponse:
    # Label and team names for the queue's chips and filters: the ids come from the
    # queue the agent already sees.
    ids = [cid for cid in request.args.get("ids", "").split(",") if cid][:MAX_LABEL_LOOKUP]
    service = service_of(request)
    return json_response(
        {
            "labels": await service.labels.labels_by_conversation(ids),
            "teams": await service.teams.teams_of(ids),
        }
    )


@desk_bp.get("/teams")
@agent_required
async def all_teams(request: Request) -> HTTPResponse:
    found = await service_of(request).teams.list_teams()
    return json_response({"teams": [team.to_json() for team in found]})


@desk_bp.get("/colleagues")
@agent_required
async def colleagues(request: Request) -> HTTPResponse:
    # Whom a chat can go to: names, availability and load only (no logins, no roles).
    service = service_of(request)
    found = await service.list_agents()
    return json_response(
        {
            "agents": [
                {
                    "id": a.id,
                    "name": a.name,
                    "online": a.online,
                    "presence": presence(request, a),
                    "load": a.load,
                    "max_chats": a.max_chats,
                }
                for a in found
                if not a.disabled
            ]
        }
    )


def presence(request: Request, agent: Agent) -> str:
    """online, away or offline (see :func:`handoff.presence.presence_of`)."""
    service = service_of(request)
    timeout = request.app.ctx.handoff_settings.presence_timeout_seconds
    return presence_of(agent.online, agent.last_seen_at, service.now(), timeout)


@desk_bp.get("/desk-settings")
@agent_required
async def desk_settings(request: Request) -> HTTPResponse:
    settings = request.app.ctx.handoff_settings
    return json_response(
        {
            "idle_away_seconds": settings.idle_away_seconds,
            "typing_interval_seconds": TYPING_INTERVAL_SECONDS,
        }
    )


@desk_bp.post("/conversations/<conversation_id:str>/transfer")
@agent_required
async def transfer(request: Request, conversation_id: str) -> HTTPResponse:
    body = read_json(request)
    for key in ("agent_id", "team_id"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ApiError(422, f"{key} must be a whole number")
    conversation = await service_of(request).teams.transfer(
        conversation_id,
        request.ctx.agent,
        to_agent_id=body.get("agent_id"),
        to_team_id=body.get("team_id"),
        note=body.get("note"),
    )
    return json_response({"conversation": conversation.to_json()})


@desk_bp.get("/conversations/<conversation_id:str>/labels")
@agent_required
async def labels_of(request: Request, conversation_id: str) -> HTTPResponse:
    await annotatable_conversation(request, conversation_id)
    found = await service_of(request).labels.labels_of(conversation_id)
    return json_response({"labels": [label.to_json() for label in found]})


@desk_bp.put("/conversations/<conversation_id:str>/labels/<label_id:int>")
@agent_required
async def put_label(request: Request, conversation_id: str, label_id: int) -> HTTPResponse:
    await annotatable_conversation(request, conversation_id)
    found = await service_of(request).labels.add_to(conversation_id, label_id, request.ctx.agent)
    return json_response({"labels": [label.to_json() for label in found]})


@desk_bp.delete("/conversations/<conversation_id:str>/labels/<label_id:int>")
@agent_required
async def remove_label(request: Request, conversation_id: str, label_id: int) -> HTTPResponse:
    await annotatable_conversation(request, conversation_id)
    found = await service_of(request).labels.remove_from(conversation_id, label_id)
    return json_response({"labels": [label.to_json() for label in found]})


__all__ = ["desk_bp"]


def _day(request: Request, name: str) -> dt.datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(422, f"{name} must be a date like 2026-11-30") from None
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)


@desk_bp.get("/search")
@agent_required
async def search(request: Request) -> HTTPResponse:
    until = _day(request, "until")
    query = SearchQuery(
        words=request.args.get("q", ""),
        contact=request.args.get("contact", ""),
        label=request.args.get("label") or None,
        team=request.args.get("team") or None,
        reason=request.args.get("reason") or None,
        since=_day(request, "since"),
        until=until + dt.timedelta(days=1) if until else None,  # the whole last day
        limit=int_arg(request, "limit", 50),
    )
    hits = await service_of(request).search.search(query)
    return json_response({"results": [hit.to_json() for hit in hits]})


@desk_bp.get("/history/<conversation_id:str>")
@agent_required
async def history(request: Request, conversation_id: str) -> HTTPResponse:
    # Read-only: the whole thread, its notes and labels; replying stays with the owner.
    service = service_of(request)
    conversation = await service.get_conversation(conversation_id)
    if not may_read_history(request.ctx.agent, conversation):
        raise ApiError(403, "this conversation is not yours to see")
    detail = await service.conversation_detail(conversation_id)
    notes = await service.notes.notes_of(conversation_id)
    found = await service.labels.labels_of(conversation_id)
    customer = await service.customer_labels([conversation_id])
    return json_response(
        {
            **detail.to_json(),
            "customer_label": customer[conversation_id],
            "notes": [n.to_json() for n in notes],
            "labels": [label.to_json() for label in found],
            "read_only": True,
        }
    )
