"""The desk's websocket ``/api/agent/ws``: live queue, chats and messages.

Protocol (JSON text frames):

* desk -> server, first frame: ``{"type": "hello", "token": "...", "last_message_id": 41}``
  (the token travels in a frame, not the URL, so it stays out of access logs).
* server -> desk: ``{"type": "ready", "agent": {...}, "queue": [...]}``; then every
  message the desk missed (id > last_message_id) and live events, each as
  ``{"type": "event", "event": "message.created", "data": {...}}``.
* desk -> server: ``{"type": "ping"}`` every ~25 s (presence) -> ``{"type": "pong"}``.
* desk -> server: ``{"type": "typing", "conversation_id": ...}`` (the customer sees
  "<name> is typing"), ``{"type": "seen", "conversation_id": ..., "message_id": n}``
  (the customer sees "Seen"), for chats the agent owns; neither is stored.

Authentication failures close the socket with code 4401 after an error frame.
Events reach the socket only after their transaction committed (see events.py).
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from websockets.exceptions import ConnectionClosed

from .events import (
    AGENT_STATUS_CHANGED,
    BUS_RESYNC,
    MESSAGE_CREATED,
    NOTE_CREATED,
    SESSION_REVOKED,
    SUPPORT_HOURS_CHANGED,
    Event,
    Subscription,
)
from .http import API_PREFIX, agent_from_token, service_of
from .policy import owns, sees_message
from .presence import SEEN, TYPING, publish_seen, publish_typing, typing_key
from .service import AuthFailed, NotFound
from .text import parse_id
from .web.sockets import (
    greet,
    incoming_frames,
    is_ping,
    refuse,
    resync,
    run_until_first_done,
    send_frame,
    unknown_frame,
)

# The agent websocket route; each app mounts a copy (web.serving.mount).
bp = Blueprint("handoff_agent_ws", url_prefix=API_PREFIX)


@bp.websocket("/ws")
async def agent_socket(request: Request, ws: Any) -> None:
    greeted = await greet(
        ws,
        "your session token",
        lambda token: agent_from_token(request, token),
        "last_message_id",
    )
    if greeted is None:
        return
    # An absent or null last_message_id is 0: a desk that never saw a message.
    agent, last_id, hello = greeted
    service = service_of(request)
    bus = request.app.ctx.handoff_bus
    # Subscribe before reading the catch-up so nothing falls between the two.
    sub = bus.subscribe()
    try:
        await service.touch_agent(agent.id)
        queue = await service.list_queue()
        await send_frame(
            ws,
            {
                "type": "ready",
                "agent": (await service.get_agent(agent.id)).to_json(),
                "queue": [item.to_json() for item in queue],
            },
        )
        last_sent = 0
        if hello.get("last_message_id") is not None:
            last_sent = await _catch_up(ws, service, agent.id, last_id)
        await _pump(ws, service, sub, agent.id, last_sent, request.ctx.agent_session, request.app)
    except ConnectionClosed:
        pass
    finally:
        bus.unsubscribe(sub)


async def _catch_up(ws: Any, service: Any, agent_id: int, last_id: int) -> int:
    last_sent = last_id
    for message in await service.messages_for_agent_since(agent_id, last_id):
        await send_frame(
            ws,
            {
                "type": "event",
                "event": MESSAGE_CREATED,
                "data": message.to_json(),
                "catch_up": True,
            },
        )
        last_sent = max(last_sent, message.id)
    return last_sent


def _wanted(event: Event, agent_id: int, last_sent: int) -> bool:
    if event.name in (SESSION_REVOKED, SUPPORT_HOURS_CHANGED):
        return False  # internal (a session id; a note to the workers)
    if event.name == MESSAGE_CREATED:
        data = event.data
        if data["id"] <= last_sent:
            return False  # already sent during catch-up
        return sees_message(agent_id, data["conversation_state"], data["conversation_agent_id"])
    if event.name == NOTE_CREATED:  # to the desks that see the chat, like its messages
        data = event.data
        return sees_message(agent_id, data["conversation_state"], data["conversation_agent_id"])
    if event.name == TYPING:  # the customer typing, to the agent who owns the chat
        data = event.data
        return data["who"] == "customer" and owns(
            agent_id, data["conversation_state"], data["conversation_agent_id"]
        )
    if event.name == SEEN:
        return False  # for the customer's widget
    return event.name != AGENT_STATUS_CHANGED


async def _live_frame(
    app: Any, service: Any, agent_id: int, frame: dict[str, Any]
) -> tuple[int, str] | None:
    """Pass on the agent's typing or "seen" for a chat they own; (status, error) if not."""
    conversation_id = frame.get("conversation_id")
    if not isinstance(conversation_id, str):
        return 422, "conversation_id is missing"
    if frame["type"] == "typing" and not app.ctx.typing_throttle.allow(
        typing_key(conversation_id, "agent")
    ):
        return None  # throttled before any database read: a held key costs nothing
    try:
        conversation = await service.get_conversation(conversation_id)
    except NotFound:
        return 404, "no such conversation"
    if not owns(agent_id, conversation.state, conversation.agent_id):
        return 403, "this conversation is not assigned to you"
    if frame["type"] == "typing":
        name = (await service.get_agent(agent_id)).name
        await publish_typing(app.ctx.handoff_bus, conversation, "agent", name)
        return None
    message_id = frame.get("message_id")
    message_id = None if isinstance(message_id, (str, bool)) else parse_id(message_id)
    if message_id is None:
        return 422, "message_id must be a message id"
    await publish_seen(app.ctx.handoff_bus, conversation_id, message_id)
    return None


async def _pump(
    ws: Any,
    service: Any,
    sub: Subscription,
    agent_id: int,
    last_sent: int,
    session_id: str,
    app: Any,
) -> None:
    async def push() -> None:
        while True:
            event = await sub.get()
            if event.name == BUS_RESYNC:
                await resync(ws)
                return
            if event.name == SESSION_REVOKED and event.data["session_id"] == session_id:
                await refuse(ws, 401, "you signed out: this session has ended")
                return
            if _wanted(event, agent_id, last_sent):
                await send_frame(ws, {"type": "event", **event.to_json()})

    async def listen() -> None:
        async for frame in incoming_frames(ws):
            if is_ping(frame):
                # The heartbeat doubles as a re-check: a disabled agent loses the feed.
                if (await service.get_agent(agent_id)).disabled:
                    await refuse(ws, 401, "this agent account is disabled")
                    return
                try:
                    await service.check_session(session_id, agent_id)
                except AuthFailed as problem:
                    await refuse(ws, 401, str(problem))
                    return
                await service.touch_agent(agent_id)
                await send_frame(ws, {"type": "pong"})
            elif frame is not None and frame.get("type") in ("typing", "seen"):
                refused = await _live_frame(app, service, agent_id, frame)
                if refused is not None:
                    await send_frame(
                        ws, {"type": "error", "status": refused[0], "error": refused[1]}
                    )
            else:
                await unknown_frame(ws, 'send {"type": "ping"}, "typing" or "seen"')

    await run_until_first_done(push(), listen())
