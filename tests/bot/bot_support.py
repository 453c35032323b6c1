"""Helpers of the customer-side tests: a fake Rasa, the web app served for real."""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Awaitable, Callable

import aiohttp
from aiohttp import web

from bot.settings import BotSettings
from handoff.settings import Settings as HandoffSettings
from tools.stack.in_process import InProcessServer
from tools.stack.runner import free_port

RASA_TOKEN = "fake-rasa-token"
DISCLOSURE = "Hi! I'm the shop's virtual assistant: an automated bot, not a person."
HANDOFF_REQUEST = {
    "version": 1,
    "reason": "frustration",
    "summary": 'The customer seems frustrated. They first wrote: "useless".',
    "transcript": [{"author": "customer", "text": "this is useless", "time": 1.0}],
    "intents": [{"text": "this is useless", "name": "complain", "confidence": 0.91}],
    "frustration": {"score": 0.8, "cues": ["insult"]},
    "faq_answers": [],
}


class FakeRasa:
    """A tiny stand-in for Rasa's REST channel and HTTP API that records every call.

    ``delay`` (seconds) holds every request before it is answered, like a busy Rasa;
    ``in_flight`` / ``max_in_flight`` count the requests being handled at once.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.calls: list[tuple[str, str, Any]] = []  # (kind, conversation, body)
        self.down = False
        self.delay = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        self.reply: Callable[[str], list[dict[str, Any]]] = self.default_reply
        self.actions: dict[str, tuple[int, list[dict[str, Any]]]] = {
            "action_session_start": (200, [{"text": DISCLOSURE}]),
            "action_listen": (200, []),
            "action_handoff": (
                200,
                [
                    {"text": "I'm bringing in a person from our support team."},
                    {"custom": {"handoff": {**HANDOFF_REQUEST, "reason": "customer_request"}}},
                ],
            ),
        }
        # Rasa's stored events per conversation (GET .../tracker) and its NLU's verdict.
        self.trackers: dict[str, list[dict[str, Any]]] = {}
        self.intent: Callable[[str], str] = lambda text: "faq"
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def default_reply(text: str) -> list[dict[str, Any]]:
        if "useless" in text:
            return [
                {"text": "I'm sorry. Let me bring in a person."},
                {"custom": {"handoff": HANDOFF_REQUEST}},
            ]
        return [
            {
                "text": f"Bot answer to: {text}",
                "buttons": [{"title": "Returns", "payload": "How do returns work?"}],
            }
        ]

    def webhook_texts(self) -> list[str]:
        """The texts the REST channel received, in order."""
        return [body["message"] for kind, _, body in self.calls if kind == "webhook"]

    def executed(self) -> list[str]:
        return [body["name"] for kind, _, body in self.calls if kind == "execute"]

    async def start(self) -> None:
        app = web.Application(middlewares=[self._count_and_delay])
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        app.router.add_post("/conversations/{cid}/tracker/events", self._events)
        app.router.add_post("/conversations/{cid}/execute", self._execute)
        app.router.add_get("/conversations/{cid}/tracker", self._tracker)
        app.router.add_post("/model/parse", self._parse)
        app.router.add_get("/status", self._status)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _count_and_delay(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[Any]]
    ) -> Any:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response = await handler(request)  # records the call on arrival
            if self.delay:
                await asyncio.sleep(self.delay)
            return response
        finally:
            self.in_flight -= 1

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(("webhook", body["sender"], body))
        if self.down:
            return web.json_response({"error": "down"}, status=500)
        return web.json_response(self.reply(body["message"]))

    def _authorised(self, request: web.Request) -> bool:
        return request.query.get("token") == RASA_TOKEN

    async def _events(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"message": "bad token"}, status=401)
        self.calls.append(("events", request.match_info["cid"], await request.json()))
        if self.down:
            return web.json_response({"error": "down"}, status=500)
        return web.json_response({"events": []})

    async def _execute(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"message": "bad token"}, status=401)
        body = await request.json()
        self.calls.append(("execute", request.match_info["cid"], body))
        if self.down:
            return web.json_response({"error": "down"}, status=500)
        status, messages = self.actions.get(
            body["name"], (500, [{"message": f"unknown action {body['name']}"}])
        )
        if status >= 400:
            return web.json_response({"message": "ConversationError"}, status=status)
        return web.json_response({"tracker": {}, "messages": messages})

    async def _tracker(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"message": "bad token"}, status=401)
        cid = request.match_info["cid"]
        self.calls.append(("tracker", cid, None))
        if self.down:
            return web.json_response({"error": "down"}, status=500)
        return web.json_response({"sender_id": cid, "events": self.trackers.get(cid, [])})

    async def _status(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"message": "bad token"}, status=401)
        return web.json_response({"model_file": "fake.tar.gz", "num_active_training_jobs": 0})

    async def _parse(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"message": "bad token"}, status=401)
        body = await request.json()
        self.calls.append(("parse", "", body))
        if self.down:
            return web.json_response({"error": "down"}, status=500)
        return web.json_response(
            {
                "text": body["text"],
                "intent": {"name": self.intent(body["text"]), "confidence": 0.97},
            }
        )


_counter = 0


def unique_name() -> str:
    """Sanic 21.12 keeps a registry of app names; each test app needs its own."""
    global _counter
    _counter += 1
    return f"bot_test_{os.getpid()}_{_counter}"


class LiveApp(InProcessServer):
    """The web app served on 127.0.0.1 in this process, with an HTTP client."""

    def __init__(self, app: Any, port: int) -> None:
        super().__init__(app, port)
        self.http: aiohttp.ClientSession | None = None
        self.stopped = False

    @property
    def service(self) -> Any:
        return self.app.ctx.handoff

    async def start(self) -> None:
        await super().start()
        self.http = aiohttp.ClientSession()

    async def stop(self) -> None:
        """Stop like Sanic does (listeners included); a second call does nothing."""
        if self.stopped:
            return
        self.stopped = True
        if self.http is not None:
            await self.http.close()
        await super().stop()

    async def call(
        self, method: str, path: str, token: str | None = None, json: Any = None, data: Any = None
    ) -> tuple[int, Any, Any]:
        """(status, JSON body, headers) of one request."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        assert self.http is not None
        async with self.http.request(
            method, self.url + path, json=json, data=data, headers=headers
        ) as response:
            body = await response.json(content_type=None)
            return response.status, body, response.headers

    async def start_chat(self) -> tuple[str, str, dict[str, Any]]:
        """Start a conversation; (id, token, body)."""
        status, body, _ = await self.call("POST", "/api/conversations")
        assert status == 201, body
        return body["conversation_id"], body["token"], body

    async def say(self, cid: str, token: str, text: str) -> tuple[int, Any, Any]:
        return await self.call(
            "POST", f"/api/conversations/{cid}/messages", token, json={"text": text}
        )


def bot_settings(rasa_url: str, **overrides: Any) -> BotSettings:
    """Settings pointing at a fake Rasa; a fixed secret."""
    return replace(
        BotSettings(
            rasa_url=rasa_url,
            rasa_token=RASA_TOKEN,
            secret_key="customer-secret-" + "y" * 40,
            rasa_timeout_seconds=5.0,
        ),
        **overrides,
    )


def desk_settings(tmp_path: Path, **overrides: Any) -> HandoffSettings:
    """Desk settings on a fresh SQLite file, auto-assignment off unless asked."""
    base = HandoffSettings.from_env(
        {
            "HANDOFF_DATA_DIR": str(tmp_path / "var"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        }
    )
    return replace(
        base, **{"secret_key": "desk-secret-" + "x" * 40, "auto_assign": False, **overrides}
    )


async def online_agent(service: Any, login: str = "alice", name: str = "Alice Moreno") -> Any:
    """An agent who is online now (so a handoff queues instead of going offline)."""
    agent = await service.create_agent(login, name, "correct horse battery")
    await service.set_availability(agent.id, True)
    return agent


async def wait_for(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll the async ``predicate`` until it returns something true; fail after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


class Inbox:
    """An aiosmtpd handler that keeps every mail it receives (a real SMTP server)."""

    def __init__(self) -> None:
        self.mails: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(envelope)
        return "250 OK"
