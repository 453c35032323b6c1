"""The desk's websocket ``/api/agent/ws``: live queue, chats and messages.

Protocol (JSON text frames):

* desk -> server, first frame: ``{"type": "hello", "token": "...", "last_message_id": 41}``
  (the token travels in a frame, not the URL, so it stays out of access logs).
* server -> desk: ``{"type": "ready", "agent": {...}, "queue": [...]}``; then every
  message the desk missed (id > last_message_id) and live events, each as
  ``{"type": "event", "event": "message.created", "data": {...}}``.
* desk -> server: ``{"type": "ping"}`` every ~25 s (presence) -> ``{"type": "pong"}``.

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
    SESSION_REVOKED,
    Event,
    Subscription,
)
from .http import agent_from_token, service_of
from .policy import sees_message
from .service import AuthFailed
from .web.sockets import (
    greet,
    incoming_frames,
    is_ping,
    refuse,
    resync,
    run_until_first_done,
    send_frame,
)


def create_ws_blueprint(name: str = "handoff_agent_ws") -> Blueprint:
    """A fresh blueprint holding the agent websocket route."""
    bp = Blueprint(name, url_prefix="/api/agent")

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
            await _pump(ws, service, sub, agent.id, last_sent, request.ctx.agent_session)
        except ConnectionClosed:
            pass
        finally:
            bus.unsubscribe(sub)

    return bp


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
    if event.name == SESSION_REVOKED:
        return False  # internal: it carries session ids
    if event.name == MESSAGE_CREATED:
        data = event.data
        if data["id"] <= last_sent:
            return False  # already sent during catch-up
        return sees_message(agent_id, data["conversation_state"], data["conversation_agent_id"])
    return event.name != AGENT_STATUS_CHANGED


async def _pump(
    ws: Any, service: Any, sub: Subscription, agent_id: int, last_sent: int, session_id: str
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
            else:
                await send_frame(
                    ws,
                    {
                        "type": "error",
                        "status": 422,
                        "error": 'unknown frame: send {"type": "ping"}',
                    },
                )

    await run_until_first_done(push(), listen())
