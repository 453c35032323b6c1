"""Clients of the scaled tests: HTTP calls, and websockets that reconnect and catch up by
message id as the widget and the desk do."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp


async def call(
    http: aiohttp.ClientSession, method: str, url: str, token: str | None = None, body: Any = None
) -> tuple[int, Any, Any]:
    """(status, JSON body, headers) of one request, on a connection of its own.

    No keep-alive: the tests wait for Rasa servers and workers to restart for longer
    than Sanic keeps an idle connection open (5 s), and a request written into a pooled
    connection the server is closing fails with "Cannot write to closing transport" (a
    CI run lost a test that way). Browsers resend in that case; this client does not.
    """
    headers = {"Connection": "close"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with http.request(method, url, json=body, headers=headers) as response:
        return response.status, await response.json(content_type=None), response.headers


async def agent_login(
    http: aiohttp.ClientSession, base: str, login: str = "demo", password: str = "demo"
) -> str:
    """Sign in and go online; the session token."""
    status, body, _ = await call(
        http, "POST", base + "/api/agent/login", body={"login": login, "password": password}
    )
    assert status == 200, body
    token = str(body["token"])
    status, body, _ = await call(http, "POST", base + "/api/agent/status", token, {"online": True})
    assert status == 200, body
    return token


async def start_chat(http: aiohttp.ClientSession, base: str) -> tuple[str, str]:
    """A new conversation on ``base``: (id, token)."""
    status, body, _ = await call(http, "POST", base + "/api/conversations")
    assert status == 201, body
    return body["conversation_id"], body["token"]


async def eventually(check: Any, timeout: float = 15.0) -> Any:
    """Poll the async ``check`` until it returns something true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


class Socket:
    """A websocket client that keeps every frame, reconnects when the server closes
    (as the widget and desk do) and asks for what it missed by message id."""

    def __init__(self, http: aiohttp.ClientSession, url: str, hello: dict[str, Any], key: str):
        self.http = http
        self.url = url
        self.hello = hello
        self.key = key  # "after" (customer) or "last_message_id" (desk)
        self.frames: list[dict[str, Any]] = []
        self.last_id = 0
        self.connects = 0
        self._task: asyncio.Task[None] | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ready = asyncio.Event()

    @classmethod
    def customer(cls, http: aiohttp.ClientSession, base: str, cid: str, token: str) -> Socket:
        url = base.replace("http", "ws", 1) + f"/api/conversations/{cid}/ws"
        return cls(http, url, {"type": "hello", "token": token}, "after")

    @classmethod
    def desk(cls, http: aiohttp.ClientSession, base: str, token: str) -> Socket:
        url = base.replace("http", "ws", 1) + "/api/agent/ws"
        return cls(http, url, {"type": "hello", "token": token}, "last_message_id")

    async def open(self) -> Socket:
        """Connect and wait for the first ``ready`` frame."""
        self._task = asyncio.ensure_future(self._run())
        await asyncio.wait_for(self._ready.wait(), 10)
        return self

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one frame on the open connection."""
        assert self._ws is not None, "not connected"
        await self._ws.send_json(frame)

    def messages(self) -> list[dict[str, Any]]:
        """Every message frame's message, in arrival order (duplicates kept)."""
        found = []
        for frame in self.frames:
            if frame.get("type") == "message":
                found.append(frame["message"])
            elif frame.get("type") == "event" and frame.get("event") == "message.created":
                found.append(frame["data"])
        return found

    def texts(self, author: str | None = None) -> list[str]:
        return [m["text"] for m in self.messages() if author is None or m.get("author") == author]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("type") == kind or f.get("event") == kind]

    async def _run(self) -> None:
        while True:
            try:
                async with self.http.ws_connect(self.url) as ws:
                    self._ws = ws
                    self.connects += 1
                    await ws.send_json({**self.hello, self.key: self.last_id})
                    async for raw in ws:
                        if raw.type != aiohttp.WSMsgType.TEXT:
                            break
                        frame = raw.json()
                        self.frames.append(frame)
                        for message in self.messages()[-1:]:
                            self.last_id = max(self.last_id, int(message["id"]))
                        if frame.get("type") == "ready":
                            self._ready.set()
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
