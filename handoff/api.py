"""Agent HTTP API under ``/api/agent``: routes parse, call the service, serialise."""

from __future__ import annotations

import asyncio

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from .contract import desk_config
from .http import API_PREFIX, agent_required, service_of, visible_conversation
from .service import AuthFailed
from .throttle import login_key
from .web.errors import ApiError
from .web.requests import client_address, int_arg, read_json

# Every agent route; each app mounts a copy (web.serving.mount).
bp = Blueprint("handoff_agent_api", url_prefix=API_PREFIX)


@bp.get("/config")
async def config(request: Request) -> HTTPResponse:
    # Public on purpose: the sign-in page needs no secret to know the limits.
    return json_response(desk_config())


@bp.get("/support-hours")
async def support_hours(request: Request) -> HTTPResponse:
    # Public on purpose: the hours are what customers are told anyway. The action server
    # reads them here (actions/support_hours.py) so the assistant says the hours this
    # worker has in service: an admin's edit, or shop.yml's.
    hours = service_of(request).hours
    return json_response({"summary": hours.summary, "timezone": hours.timezone.key})


@bp.post("/login")
async def login(request: Request) -> HTTPResponse:
    body = read_json(request, ("login", "password"))
    service = service_of(request)
    throttle = request.app.ctx.login_throttle
    name, address = login_key(body["login"]), client_address(request)
    wait = await throttle.retry_after(name, address)
    if wait is not None:
        raise ApiError(
            429,
            f"too many failed sign-ins: please wait {wait} s and try again",
            {"Retry-After": str(wait)},
        )
    try:
        agent = await service.authenticate(body["login"], body["password"])
    except AuthFailed:
        await asyncio.sleep(await throttle.failed(name, address))
        raise
    await throttle.succeeded(name)
    settings = request.app.ctx.handoff_settings
    token = await service.open_session(agent.id)
    return json_response(
        {"token": token, "expires_in": settings.token_ttl_seconds, "agent": agent.to_json()}
    )


@bp.post("/logout")
@agent_required
async def logout(request: Request) -> HTTPResponse:
    # The token stops working at once, on HTTP and on the desk's open websockets.
    await service_of(request).revoke_session(request.ctx.agent_session)
    return json_response({"signed_out": True})


@bp.get("/me")
@agent_required
async def me(request: Request) -> HTTPResponse:
    return json_response({"agent": request.ctx.agent.to_json()})


@bp.post("/status")
@agent_required
async def status(request: Request) -> HTTPResponse:
    body = read_json(request, ("online",))
    if not isinstance(body["online"], bool):
        raise ApiError(422, "online must be true or false")
    agent = await service_of(request).set_availability(request.ctx.agent.id, body["online"])
    return json_response({"agent": agent.to_json()})


@bp.get("/queue")
@agent_required
async def queue(request: Request) -> HTTPResponse:
    items = await service_of(request).list_queue()
    return json_response({"queue": [item.to_json() for item in items]})


@bp.get("/conversations")
@agent_required
async def mine(request: Request) -> HTTPResponse:
    service = service_of(request)
    chats = await service.conversations_of_agent(request.ctx.agent.id)
    labels = await service.customer_labels([c.id for c in chats])
    return json_response(
        {"conversations": [{**c.to_json(), "customer_label": labels[c.id]} for c in chats]}
    )


@bp.get("/conversations/<conversation_id:str>")
@agent_required
async def detail(request: Request, conversation_id: str) -> HTTPResponse:
    await visible_conversation(request, conversation_id)
    result = await service_of(request).conversation_detail(conversation_id)
    return json_response(result.to_json())


@bp.get("/conversations/<conversation_id:str>/messages")
@agent_required
async def messages(request: Request, conversation_id: str) -> HTTPResponse:
    after = int_arg(request, "after", 0)
    await visible_conversation(request, conversation_id)
    found = await service_of(request).messages_since(conversation_id, after)
    return json_response({"messages": [m.to_json() for m in found]})


@bp.post("/conversations/<conversation_id:str>/claim")
@agent_required
async def claim(request: Request, conversation_id: str) -> HTTPResponse:
    conversation = await service_of(request).claim(conversation_id, request.ctx.agent.id)
    return json_response({"conversation": conversation.to_json()})


@bp.post("/conversations/<conversation_id:str>/messages")
@agent_required
async def reply(request: Request, conversation_id: str) -> HTTPResponse:
    body = read_json(request, ("text",))
    message = await service_of(request).agent_reply(
        conversation_id, request.ctx.agent.id, body["text"]
    )
    return json_response({"message": message.to_json()}, status=201)


@bp.post("/conversations/<conversation_id:str>/handback")
@agent_required
async def hand_back(request: Request, conversation_id: str) -> HTTPResponse:
    conversation = await service_of(request).hand_back(conversation_id, request.ctx.agent.id)
    return json_response({"conversation": conversation.to_json()})


@bp.post("/conversations/<conversation_id:str>/close")
@agent_required
async def close(request: Request, conversation_id: str) -> HTTPResponse:
    conversation = await service_of(request).close(conversation_id, request.ctx.agent.id)
    return json_response({"conversation": conversation.to_json()})


@bp.get("/tickets")
@agent_required
async def tickets(request: Request) -> HTTPResponse:
    state = request.args.get("state", "open")
    found = await service_of(request).list_tickets(state)
    return json_response({"tickets": [t.to_json() for t in found]})


@bp.post("/tickets/<ticket_id:int>/done")
@agent_required
async def ticket_done(request: Request, ticket_id: int) -> HTTPResponse:
    ticket = await service_of(request).mark_ticket_done(ticket_id, request.ctx.agent.id)
    return json_response({"ticket": ticket.to_json()})
