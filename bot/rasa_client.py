"""The Rasa client: the REST channel for customer messages, the HTTP API for actions.

One ``aiohttp.ClientSession`` per process (connections are reused); every failure
(refused, timeout, non-2xx, bad JSON) becomes :class:`RasaUnavailable` so the gateway
has one thing to handle.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

import aiohttp

logger = logging.getLogger(__name__)

# Rasa's ``execute`` needs an existing tracker, and runs a due session start without an
# output channel (the disclosure would be lost, with an error in Rasa's log). So the
# tracker is created already started and listening (events that begin with a session
# start are stored as they are), then ``action_session_start`` runs for real, with its
# messages collected: our custom one utters the disclosure and ends listening.
NEW_TRACKER_EVENTS = [
    {"event": "action", "name": "action_session_start"},
    {"event": "session_started"},
    {"event": "action", "name": "action_listen"},
]


class RasaUnavailable(Exception):
    """Rasa did not answer usefully (down, slow, error status or unknown action)."""

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status


class RasaClient:
    """Talks to one Rasa server; call :meth:`close` on shutdown."""

    def __init__(self, base_url: str, token: Optional[str], timeout_seconds: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: Optional[aiohttp.ClientSession] = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        """Close the connection pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, conversation_id: str, text: str) -> List[Dict[str, Any]]:
        """A customer message through the REST channel; returns the bot's replies."""
        replies = await self._post(
            "/webhooks/rest/webhook", {"sender": conversation_id, "message": text}, api=False
        )
        if not isinstance(replies, list):
            raise RasaUnavailable("Rasa answered the message with something unexpected")
        return replies

    async def start(self, conversation_id: str) -> List[Dict[str, Any]]:
        """Open a conversation: run the session start and return its messages."""
        await self._post(f"/conversations/{conversation_id}/tracker/events", NEW_TRACKER_EVENTS)
        return await self._execute(conversation_id, "action_session_start")

    async def execute(self, conversation_id: str, action: str) -> List[Dict[str, Any]]:
        """Run ``action`` in the conversation through the HTTP API; its messages.

        Rasa's ``execute`` runs one action and predicts nothing after it, so the tracker
        would not be listening: the customer's next message would then follow an
        unfamiliar action sequence and the policies would fall back. An
        ``action_listen`` afterwards puts the conversation back where a message is due.
        """
        messages = await self._execute(conversation_id, action)
        if action != "action_listen":
            try:
                await self._execute(conversation_id, "action_listen")
            except RasaUnavailable as problem:
                # The action ran and its messages count; the next message still works,
                # if less predictably, so this is not worth losing them for.
                logger.warning("action_listen after %s failed in %s: %s",
                               action, conversation_id, problem)
        return messages

    async def _execute(self, conversation_id: str, action: str) -> List[Dict[str, Any]]:
        body = await self._post(f"/conversations/{conversation_id}/execute", {"name": action})
        messages = body.get("messages") if isinstance(body, dict) else None
        return messages if isinstance(messages, list) else []

    async def _post(self, path: str, payload: Any, api: bool = True) -> Any:
        params = {"token": self.token} if api and self.token else None
        url = self.base_url + path
        try:
            async with self._http().post(url, json=payload, params=params) as response:
                if response.status >= 400:
                    detail = (await response.text())[:300]
                    raise RasaUnavailable(
                        f"Rasa answered {response.status} to {path}: {detail}", response.status
                    )
                return await response.json(content_type=None)
        except RasaUnavailable:
            raise
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise RasaUnavailable(f"Rasa is unreachable at {self.base_url}: {error!r}") from None
