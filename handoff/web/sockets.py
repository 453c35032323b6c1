"""Websocket plumbing shared by the desk's socket and the customer's (bot/ws.py).

JSON text frames in both directions; a first `hello` frame carrying the token (never the
URL: it would land in access logs); pings answered by the caller; several loops run until
the first one ends.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar

from websockets.exceptions import ConnectionClosed

from ..text import MAX_ID, find_unstorable, parse_id
from .errors import ApiError

T = TypeVar("T")

# A client that opens a socket and says nothing is dropped after this long.
HELLO_TIMEOUT_SECONDS = 15
# Close codes are 4000 + the HTTP status that says why (4401, 4403, 4422, 4429).
CLOSE_REASONS = {401: "unauthorised", 403: "forbidden", 422: "bad frame", 429: "too many"}


async def send_frame(ws: Any, frame: dict[str, Any]) -> None:
    """Send one JSON frame."""
    await ws.send(json.dumps(frame))


async def unknown_frame(ws: Any, hint: str) -> None:
    """Answer a frame this socket does not take with an error frame saying what it does
    take (``hint``); the socket stays open."""
    await send_frame(ws, {"type": "error", "status": 422, "error": f"unknown frame: {hint}"})


async def resync(ws: Any) -> None:
    """Close with 1012 (service restart): live events may have been missed (the bus
    lost Redis for a while); the client reconnects and catches up by message id."""
    try:
        await ws.close(code=1012, reason="reconnect to catch up")
    except ConnectionClosed:
        pass


def parse_frame(raw: Any) -> dict[str, Any] | None:
    """The frame as a dict, or None when it is not a JSON object."""
    try:
        frame = json.loads(raw)
    except (TypeError, ValueError, RecursionError):
        return None
    if not isinstance(frame, dict) or find_unstorable(frame) is not None:
        return None
    return frame


async def refuse(ws: Any, status: int, message: str) -> None:
    """Send an error frame, then close with code 4000 + ``status``."""
    try:
        await send_frame(ws, {"type": "error", "status": status, "error": message})
        await ws.close(code=4000 + status, reason=CLOSE_REASONS.get(status, "refused"))
    except ConnectionClosed:
        pass


def hello_message_id(hello: dict[str, Any], key: str) -> int | None:
    """The last message id a hello frame names under ``key`` (0 when absent or null),
    or None when it is not a message id (a string, -1, 10**30...)."""
    raw = hello.get(key)
    if raw is None:
        return 0
    return None if isinstance(raw, str) else parse_id(raw)


async def message_id_or_refuse(ws: Any, hello: dict[str, Any], key: str) -> int | None:
    """The message id the hello names under ``key`` (0 when absent), or None after
    refusing the socket with 4422."""
    value = hello_message_id(hello, key)
    if value is None:
        await refuse(ws, 422, bad_message_id(key))
    return value


def bad_message_id(key: str) -> str:
    """The error text for a hello frame whose ``key`` is not a message id."""
    return f"{key} must be a message id: a whole number from 0 to {MAX_ID}"


async def read_hello(
    ws: Any, timeout: float, refuse: Callable[[str], Awaitable[None]], what: str
) -> dict[str, Any] | None:
    """The first frame, which must be `{"type": "hello", ...}`; None (after refusing)
    when it is late, malformed or the socket closed. `what` names the token expected."""
    try:
        raw = await asyncio.wait_for(ws.recv(), timeout=timeout)
    except asyncio.TimeoutError:
        await refuse(f"send a hello frame with {what} first")
        return None
    except ConnectionClosed:
        return None
    frame = parse_frame(raw)
    if frame is None or frame.get("type") != "hello":
        await refuse('the first frame must be {"type": "hello", "token": "..."}')
        return None
    return frame


async def open_with_hello(ws: Any, what: str) -> dict[str, Any] | None:
    """The client's hello frame, or None after refusing with 401 (late, malformed, not a
    hello) or when the socket closed. ``what`` names the token the hello must carry."""
    return await read_hello(
        ws, HELLO_TIMEOUT_SECONDS, lambda message: refuse(ws, 401, message), what
    )


async def greet(
    ws: Any,
    what: str,
    authenticate: Callable[[str | None], Awaitable[T]],
    id_key: str,
) -> tuple[T, int, dict[str, Any]] | None:
    """Open a socket: ``(who, message id to catch up from, the hello)``, or None after
    refusing (no or a bad hello: 4401; ``authenticate`` raised an :class:`ApiError`: 4000
    + its status; ``id_key`` not a message id: 4422). ``what`` names the token expected."""
    hello = await open_with_hello(ws, what)
    if hello is None:
        return None
    try:
        who = await authenticate(hello.get("token"))
    except ApiError as problem:
        await refuse(ws, problem.status, problem.message)
        return None
    after = await message_id_or_refuse(ws, hello, id_key)
    if after is None:
        return None
    return who, after, hello


async def incoming_frames(ws: Any) -> AsyncIterator[dict[str, Any] | None]:
    """Every frame the client sends (None for a malformed one) until it disconnects."""
    while True:
        raw = await ws.recv()
        if raw is None:
            return
        yield parse_frame(raw)


def is_ping(frame: dict[str, Any] | None) -> bool:
    """True for the client's heartbeat `{"type": "ping"}`."""
    return frame is not None and frame.get("type") == "ping"


async def run_until_first_done(*loops: Awaitable[None]) -> None:
    """Run the loops together; when one ends (or fails), cancel the others."""
    tasks = [asyncio.ensure_future(loop) for loop in loops]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
