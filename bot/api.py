"""Customer API under ``/api/conversations``: routes parse, call, serialise.

Every route but "start" needs the conversation's token (``Authorization: Bearer``).
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from handoff.contract import widget_limits
from handoff.service import HandoffService
from handoff.text import is_blank
from handoff.web.errors import ApiError
from handoff.web.requests import client_address, int_arg, optional_text, read_json

from . import tokens
from .frames import message_view
from .gateway import Gateway, Outcome
from .http import authorise, limit
from .mailer import (
    MailError,
    addresses_in,
    build_email,
    format_transcript,
    send_email,
    valid_address,
)
from .returning import link_identity
from .settings import BotSettings

PREFIX = "/api/conversations"


def _settings(request: Request) -> BotSettings:
    return request.app.ctx.bot_settings


def _gateway(request: Request) -> Gateway:
    return request.app.ctx.gateway


def _service(request: Request) -> HandoffService:
    return request.app.ctx.handoff


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "message": message_view(outcome.message.to_json()) if outcome.message else None,
        "replies": [message_view(m.to_json()) for m in outcome.replies],
        "handoff": _handoff_json(outcome),
        "assistant_unavailable": outcome.assistant_unavailable,
        "assistant_busy": outcome.assistant_busy,
    }


def _handoff_json(outcome: Outcome) -> dict[str, Any] | None:
    result = outcome.handoff
    if result is None:
        return None
    return {
        "outcome": result.outcome,
        "position": result.position,
        "estimated_wait_seconds": result.estimated_wait_seconds,
        "agent_name": result.agent_name,
        "message": result.message,
    }


def _message_text(body: dict[str, Any], max_chars: int) -> str:
    text = body.get("text")
    if not isinstance(text, str):
        raise ApiError(422, "text must be a string")
    if is_blank(text):
        raise ApiError(422, "the message is empty: write something first")
    if len(text) > max_chars:
        raise ApiError(
            413, f"the message is too long: {len(text)} characters, the limit is {max_chars}"
        )
    return text


# Every customer route; each app mounts a copy of it (handoff.web.serving.mount).
bp = Blueprint("customer_api", url_prefix=PREFIX)


@bp.post("")
async def start(request: Request) -> HTTPResponse:
    await limit(request.app.ctx.limits["new"], client_address(request), "new chats")
    # Optional body: {"customer": {...}}, the shop's signed identity (bot/identity.py).
    body = read_json(request) if request.body else {}
    outcome = await _gateway(request).start_conversation()
    settings = _settings(request)
    conversation_id = outcome.conversation_id
    assert conversation_id is not None  # start_conversation always sets it
    customer = await link_identity(request, conversation_id, body.get("customer"))
    token = tokens.issue(
        conversation_id,
        request.app.ctx.bot_secret,
        settings.token_ttl_seconds,
        _service(request).now(),
    )
    return json_response(
        {
            "conversation_id": conversation_id,
            "token": token,
            "expires_in": settings.token_ttl_seconds,
            "state": "bot",
            "messages": [message_view(m.to_json()) for m in outcome.replies],
            "assistant_unavailable": outcome.assistant_unavailable,
            "assistant_busy": outcome.assistant_busy,
            "features": {"transcript_email": settings.transcript_email_enabled},
            "limits": widget_limits(settings.max_message_chars),
            "customer": customer,
        },
        status=201,
    )


@bp.get("/<conversation_id:str>")
async def status(request: Request, conversation_id: str) -> HTTPResponse:
    authorise(request, conversation_id)
    service = _service(request)
    conversation = await service.get_conversation(conversation_id)
    queue = await service.queue_status(conversation_id)
    agent_name = None
    if conversation.state == "assigned" and conversation.agent_id is not None:
        agent_name = (await service.get_agent(conversation.agent_id)).name
    return json_response(
        {
            "conversation_id": conversation.id,
            "state": conversation.state,
            "agent_name": agent_name,
            "queue": queue.to_json() if queue else None,
            "features": {"transcript_email": _settings(request).transcript_email_enabled},
            "limits": widget_limits(_settings(request).max_message_chars),
        }
    )


@bp.get("/<conversation_id:str>/messages")
async def history(request: Request, conversation_id: str) -> HTTPResponse:
    authorise(request, conversation_id)
    after = int_arg(request, "after", 0)
    found = await _service(request).messages_since(conversation_id, after)
    return json_response({"messages": [message_view(m.to_json()) for m in found]})


@bp.post("/<conversation_id:str>/messages")
async def send(request: Request, conversation_id: str) -> HTTPResponse:
    authorise(request, conversation_id)
    text = _message_text(read_json(request), _settings(request).max_message_chars)
    limits = request.app.ctx.limits
    await limit(limits["conversation"], conversation_id, "messages in this chat")
    await limit(limits["address"], client_address(request), "messages from your network")
    outcome = await _gateway(request).customer_message(conversation_id, text)
    return json_response(_outcome_json(outcome), status=201)


@bp.post("/<conversation_id:str>/handoff")
async def talk_to_a_person(request: Request, conversation_id: str) -> HTTPResponse:
    authorise(request, conversation_id)
    await limit(request.app.ctx.limits["conversation"], conversation_id, "requests in this chat")
    outcome = await _gateway(request).request_handoff(conversation_id)
    return json_response(_outcome_json(outcome))


@bp.post("/<conversation_id:str>/cancel")
async def cancel(request: Request, conversation_id: str) -> HTTPResponse:
    authorise(request, conversation_id)
    conversation = await _service(request).cancel(conversation_id)
    return json_response({"state": conversation.state})


@bp.post("/<conversation_id:str>/contact")
async def contact(request: Request, conversation_id: str) -> HTTPResponse:
    authorise(request, conversation_id)
    body = read_json(request)
    note = optional_text(body, "message")
    # The service checks the contact details themselves (a non-empty string, not too long).
    ticket = await _service(request).leave_contact(conversation_id, body.get("contact"), note)
    return json_response({"ticket_id": ticket.id, "state": ticket.state}, status=201)


@bp.post("/<conversation_id:str>/close")
async def close(request: Request, conversation_id: str) -> HTTPResponse:
    authorise(request, conversation_id)
    conversation = await _service(request).close(conversation_id, reason="customer_left")
    return json_response({"state": conversation.state})


@bp.post("/<conversation_id:str>/csat")
async def csat(request: Request, conversation_id: str) -> HTTPResponse:
    authorise(request, conversation_id)
    body = read_json(request)
    comment = optional_text(body, "comment")
    # The service validates the score (a whole number from 1 to 5) and says so.
    await _service(request).record_csat(conversation_id, body.get("score"), comment)
    return json_response({"recorded": True}, status=201)


@bp.post("/<conversation_id:str>/transcript")
async def transcript(request: Request, conversation_id: str) -> HTTPResponse:
    authorise(request, conversation_id)
    settings = _settings(request)
    if not settings.transcript_email_enabled or settings.smtp_host is None:
        raise ApiError(503, "e-mailing transcripts is not set up on this server")
    address = read_json(request).get("email")
    if not isinstance(address, str) or not valid_address(address):
        raise ApiError(422, "please give one valid e-mail address (on a domain name)")
    service = _service(request)
    # Only to an address the customer gave in this chat: the shop's mail server is
    # nobody's relay to arbitrary recipients.
    if address.lower() not in addresses_in(await service.contacts_given(conversation_id)):
        raise ApiError(
            403,
            "we can only e-mail the transcript to the address you left "
            "in this chat: leave your contact details first",
        )
    limits = request.app.ctx.limits
    await limit(limits["transcript"], conversation_id, "transcript e-mails")
    await limit(
        limits["transcript_recipient"], address.lower(), "transcript e-mails to this address"
    )
    facts = service.wording.facts
    sender = settings.smtp_sender or f"{facts['shop_name']} <{facts['support_email']}>"
    text = format_transcript(await service.messages_since(conversation_id), service.wording)
    email = build_email(address, sender, service.wording.say("transcript_title"), text)
    try:
        await send_email(settings.smtp_host, settings.smtp_port, email)
    except MailError as problem:
        raise ApiError(502, f"{problem}; please try again later") from None
    return json_response({"sent_to": address}, status=202)
