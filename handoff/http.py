"""The agent guard of the agent API (the rest of the HTTP plumbing is ``handoff.web``)."""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable, Coroutine

from sanic import Request
from sanic.response import HTTPResponse

from .auth import read_session_token
from .policy import can_view, may_administer, may_annotate
from .service import AuthFailed, Conversation, HandoffService, NotFound
from .web.errors import ApiError
from .web.requests import bearer_token

API_PREFIX = "/api/agent"
Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]


def service_of(request: Request) -> HandoffService:
    """The service attached to the app at start-up."""
    return request.app.ctx.handoff


async def agent_from_token(request: Request, token: str | None) -> Any:
    """Resolve a token to an enabled agent with a live session, or raise a 401
    :class:`ApiError` (a :class:`~handoff.web.tokens.TokenError` for a bad token). Puts
    the session id on ``request.ctx.agent_session``."""
    if not token:
        raise ApiError(401, "log in first: this needs an agent session token")
    try:
        agent_id, session_id = read_session_token(
            token, request.app.ctx.handoff_settings.secret_key
        )
        if session_id is None:
            raise ApiError(401, "invalid session token")
        await service_of(request).check_session(session_id, agent_id)
        agent = await service_of(request).get_agent(agent_id)
    except AuthFailed as problem:
        raise ApiError(401, str(problem)) from None
    except NotFound:
        raise ApiError(401, "invalid session token") from None
    request.ctx.agent_session = session_id
    if agent.disabled:
        raise ApiError(401, "this agent account is disabled")
    return agent


def agent_required(handler: Handler) -> Handler:
    """Route decorator: 401 unless a valid session token names an enabled agent."""

    @wraps(handler)
    async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        request.ctx.agent = await agent_from_token(request, bearer_token(request))
        return await handler(request, *args, **kwargs)

    return guarded


def admin_required(handler: Handler) -> Handler:
    """Route decorator: 401 without a valid session, 403 for an agent who is not admin."""

    @wraps(handler)
    async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        agent = await agent_from_token(request, bearer_token(request))
        if not may_administer(agent):
            raise ApiError(403, "only an admin may do this")
        request.ctx.agent = agent
        return await handler(request, *args, **kwargs)

    return guarded


async def visible_conversation(request: Request, conversation_id: str) -> Conversation:
    """The conversation if the signed-in agent may see it (``policy.can_view``), else a
    403 (404 when there is no such conversation)."""
    service = service_of(request)
    conversation = await service.get_conversation(conversation_id)
    has_ticket = conversation.state in ("bot", "closed") and await service.has_ticket(
        conversation_id
    )
    if not can_view(request.ctx.agent, conversation, has_ticket):
        raise ApiError(403, "this conversation is not yours to see")
    return conversation


async def annotatable_conversation(request: Request, conversation_id: str) -> Conversation:
    """The conversation if the signed-in agent may write notes and labels on it
    (``policy.may_annotate``), else a 403 (404 when there is no such conversation)."""
    service = service_of(request)
    conversation = await service.get_conversation(conversation_id)
    ended = conversation.state in ("bot", "closed")
    has_ticket = ended and await service.has_ticket(conversation_id)
    last_agent = ended and await service.teams.last_agent_of(conversation_id)
    if not may_annotate(request.ctx.agent, conversation, has_ticket, last_agent):
        raise ApiError(403, "this conversation is not yours to see")
    return conversation
