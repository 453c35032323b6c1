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

import asyncio
import json
from typing import Any, Dict, Optional

from sanic import Blueprint, Request
from websockets.exceptions import ConnectionClosed

from .events import AGENT_STATUS_CHANGED, MESSAGE_CREATED, Event, Subscription
from .http import ApiError, agent_from_token, service_of
from .policy import sees_message

HELLO_TIMEOUT_SECONDS = 15
CLOSE_UNAUTHORISED = 4401


def create_ws_blueprint(name: str = "handoff_agent_ws") -> Blueprint:
    """A fresh blueprint holding the agent websocket route."""
    bp = Blueprint(name, url_prefix="/api/agent")

    @bp.websocket("/ws")
    async def agent_socket(request: Request, ws: Any) -> None:
        hello = await _read_hello(ws)
        if hello is None:
            return
        try:
            agent = await agent_from_token(request, hello.get("token"))
        except ApiError as problem:
            await _refuse(ws, problem.message)
            return
        service = service_of(request)
        bus = request.app.ctx.handoff_bus
        # Subscribe before reading the catch-up so nothing falls between the two.
        sub = bus.subscribe()
        try:
            await service.touch_agent(agent.id)
            queue = await service.list_queue()
            await _send(ws, {
                "type": "ready",
                "agent": (await service.get_agent(agent.id)).to_json(),
                "queue": [item.to_json() for item in queue],
            })
            last_sent = await _catch_up(ws, service, agent.id, hello.get("last_message_id"))
            await _pump(ws, service, sub, agent.id, last_sent)
        except ConnectionClosed:
            pass
        finally:
            bus.unsubscribe(sub)

    return bp


async def _read_hello(ws: Any) -> Optional[Dict[str, Any]]:
    try:
        raw = await asyncio.wait_for(ws.recv(), timeout=HELLO_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        await _refuse(ws, "send a hello frame with your session token first")
        return None
    try:
        frame = json.loads(raw)
    except (TypeError, ValueError):
        frame = None
    if not isinstance(frame, dict) or frame.get("type") != "hello":
        await _refuse(ws, 'the first frame must be {"type": "hello", "token": "..."}')
        return None
    return frame


async def _refuse(ws: Any, message: str) -> None:
    try:
        await _send(ws, {"type": "error", "status": 401, "error": message})
        await ws.close(code=CLOSE_UNAUTHORISED, reason="unauthorised")
    except ConnectionClosed:
        pass


async def _send(ws: Any, frame: Dict[str, Any]) -> None:
    await ws.send(json.dumps(frame))


async def _catch_up(ws: Any, service: Any, agent_id: int, last_id: Any) -> int:
    if isinstance(last_id, bool) or not isinstance(last_id, int) or last_id < 0:
        # A desk that never saw a message loads transcripts over HTTP instead.
        return 0
    last_sent = last_id
    for message in await service.messages_for_agent_since(agent_id, last_id):
        await _send(ws, {"type": "event", "event": MESSAGE_CREATED, "data": message.to_json(),
                         "catch_up": True})
        last_sent = max(last_sent, message.id)
    return last_sent


def _wanted(event: Event, agent_id: int, last_sent: int) -> bool:
    if event.name == MESSAGE_CREATED:
        data = event.data
        if data["id"] <= last_sent:
            return False  # already sent during catch-up
        return sees_message(agent_id, data["conversation_state"], data["conversation_agent_id"])
    return event.name != AGENT_STATUS_CHANGED


async def _pump(ws: Any, service: Any, sub: Subscription, agent_id: int, last_sent: int) -> None:
    async def push() -> None:
        while True:
            event = await sub.get()
            if _wanted(event, agent_id, last_sent):
                await _send(ws, {"type": "event", **event.to_json()})

    async def listen() -> None:
        while True:
            raw = await ws.recv()
            if raw is None:
                return
            try:
                frame = json.loads(raw)
            except (TypeError, ValueError):
                frame = None
            if isinstance(frame, dict) and frame.get("type") == "ping":
                # The heartbeat doubles as a re-check: a disabled agent loses the feed.
                if (await service.get_agent(agent_id)).disabled:
                    await _refuse(ws, "this agent account is disabled")
                    return
                await service.touch_agent(agent_id)
                await _send(ws, {"type": "pong"})
            else:
                await _send(ws, {"type": "error", "status": 422,
                                 "error": 'unknown frame: send {"type": "ping"}'})

    tasks = [asyncio.ensure_future(push()), asyncio.ensure_future(listen())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
