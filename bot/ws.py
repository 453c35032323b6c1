"""The customer's websocket ``/api/conversations/<id>/ws``.

Protocol (JSON text frames):

* widget -> server, first frame: ``{"type": "hello", "token": "...", "after": 41}``
  (the token travels in a frame, not the URL, so it stays out of access logs).
* server -> widget: ``{"type": "ready", "state": ..., "agent_name": ..., "queue": ...}``,
  then every message with id > ``after`` (``{"type": "message", "message": {...}}``),
  then live frames: ``message``, ``queue``, ``agent_joined``, ``bot_back``, ``closed``,
  ``offline``. Message ids increase: the widget keeps the last one and dedupes by id.
* widget -> server: ``{"type": "ping"}`` -> ``{"type": "pong"}``; ``{"type": "typing"}``
  (the agent sees it; throttled, never stored). Live frames also carry ``typing``
  (``name``: the agent) and ``seen`` (``message_id``: an agent read up to it).

A bad or missing token closes the socket with 4401 (4403: another conversation's, or a
page from a site not in WIDGET_ORIGINS).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sanic import Blueprint, Request
from websockets.exceptions import ConnectionClosed

from handoff.events import (
    BUS_RESYNC,
    CONVERSATION_QUEUED,
    MESSAGE_CREATED,
    QUEUE_CHANGED,
    Event,
)
from handoff.presence import publish_typing, typing_key
from handoff.service import HandoffService, NotFound
from handoff.web import sockets
from handoff.web.cors import NOT_ALLOWED, origin_allowed
from handoff.web.sockets import refuse, send_frame

from . import tokens
from .frames import event_frame, message_view, queue_frame

# The customer websocket route; each app mounts a copy (handoff.web.serving.mount).
bp = Blueprint("customer_ws", url_prefix="/api/conversations")


@bp.websocket("/<conversation_id:str>/ws")
async def customer_socket(request: Request, ws: Any, conversation_id: str) -> None:
    # Browsers send Origin on every socket and CORS does not cover sockets: check here.
    if not origin_allowed(request, request.app.ctx.widget_origins):
        await refuse(ws, 403, NOT_ALLOWED)
        return

    async def check(token: str | None) -> None:
        # Only from the hello frame: a token in the URL would land in access logs.
        tokens.check(token, conversation_id, request.app.ctx.bot_secret)

    greeted = await sockets.greet(ws, "the conversation token", check, "after")
    if greeted is None:
        return
    _, after, _ = greeted
    # A script holding hundreds of sockets to one chat would multiply every push (the
    # cap counts this worker's sockets: see README "Several web workers").
    widgets = request.app.ctx.widgets
    if widgets.here(conversation_id) >= request.app.ctx.bot_settings.websockets_per_conversation:
        await refuse(
            ws,
            429,
            "too many open connections to this chat: close another tab or window of it first",
        )
        return
    await widgets.opened(conversation_id)
    try:
        await _serve(request, ws, conversation_id, after)
    finally:
        await widgets.closed(conversation_id)


async def _serve(request: Request, ws: Any, conversation_id: str, after: int) -> None:
    """Catch up from ``after``, then push live frames until the socket closes."""
    service: HandoffService = request.app.ctx.handoff
    bus = request.app.ctx.handoff_bus
    # Subscribe before the catch-up read so nothing falls between the two.
    own = bus.subscribe(conversation_id=conversation_id)
    queue = bus.subscribe(names=[QUEUE_CHANGED])
    try:
        await send_frame(ws, await _ready(service, conversation_id))
        sent = set()
        for message in await service.messages_since(conversation_id, after):
            await send_frame(ws, {"type": "message", "message": message_view(message.to_json())})
            sent.add(message.id)
        await _pump(ws, service, conversation_id, own, queue, sent, request.app)
    except (ConnectionClosed, NotFound):
        pass
    finally:
        bus.unsubscribe(own)
        bus.unsubscribe(queue)


async def _ready(service: HandoffService, conversation_id: str) -> dict[str, Any]:
    conversation = await service.get_conversation(conversation_id)
    status = await service.queue_status(conversation_id)
    agent_name = None
    if conversation.state == "assigned" and conversation.agent_id is not None:
        agent_name = (await service.get_agent(conversation.agent_id)).name
    return {
        "type": "ready",
        "state": conversation.state,
        "agent_name": agent_name,
        "queue": status.to_json() if status else None,
    }


async def _frame_for(
    service: HandoffService, conversation_id: str, event: Event, sent: set[int]
) -> dict[str, Any] | None:
    if event.name == MESSAGE_CREATED:
        if event.data["id"] in sent:
            return None  # already sent during the catch-up
        return {"type": "message", "message": message_view(event.data)}
    if event.name in (QUEUE_CHANGED, CONVERSATION_QUEUED):
        if event.name == QUEUE_CHANGED and conversation_id not in event.data.get("queue", []):
            return None
        status = await service.queue_status(conversation_id)
        return queue_frame(status.position, status.estimated_wait_seconds) if status else None
    return event_frame(event.name, event.data)


async def _pump(
    ws: Any,
    service: HandoffService,
    conversation_id: str,
    own: Any,
    queue: Any,
    sent: set[int],
    app: Any,
) -> None:
    bus, throttle = app.ctx.handoff_bus, app.ctx.typing_throttle
    events: asyncio.Queue[Event] = asyncio.Queue()

    async def forward(sub: Any) -> None:
        while True:
            events.put_nowait(await sub.get())

    async def push() -> None:
        while True:
            event = await events.get()
            if event.name == BUS_RESYNC:
                await sockets.resync(ws)
                return
            frame = await _frame_for(service, conversation_id, event, sent)
            if frame is not None:
                await send_frame(ws, frame)

    async def listen() -> None:
        async for frame in sockets.incoming_frames(ws):
            if sockets.is_ping(frame):
                await send_frame(ws, {"type": "pong"})
            elif frame is not None and frame.get("type") == "typing":
                # Only to the agent who has the chat; throttled (before the database
                # read, so a flood costs nothing), never stored.
                if throttle.allow(typing_key(conversation_id, "customer")):
                    conversation = await service.get_conversation(conversation_id)
                    if conversation.state == "assigned":
                        await publish_typing(bus, conversation, "customer", None)
            else:
                await sockets.unknown_frame(
                    ws, 'send messages over HTTP, or {"type": "ping"} or {"type": "typing"}'
                )

    await sockets.run_until_first_done(forward(own), forward(queue), push(), listen())
