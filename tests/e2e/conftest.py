"""The real stack, once per test session: Rasa with the trained model, the action
server (the root conftest's), and the web app (``python -m bot``) on free ports."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tools.stack.runner import (
    Service,
    free_port,
    rasa_service,
    sandbox_web_env,
    wait_until_healthy,
    web_service,
    write_endpoints,
)

RASA_TOKEN = "e2e-rasa-token"
# The shop's side of the signed customer identity (bot/identity.py), for the widget tests.
IDENTITY_SECRET = "e2e-identity-secret-" + "k" * 32


@dataclass
class Stack:
    """Where the running stack is."""

    url: str
    rasa_url: str
    rasa_token: str
    database: Path

    def rows(self, conversation_id: str) -> list[tuple[int, str, str]]:
        """(id, author, text) of the conversation's stored messages, by id."""
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as conn:
            return list(
                conn.execute(
                    "SELECT id, author, text FROM messages WHERE conversation_id = ? ORDER BY id",
                    (conversation_id,),
                )
            )


@pytest.fixture(scope="session")
def identity_secret() -> str:
    """The secret the stack's web app checks signed customers with."""
    return IDENTITY_SECRET


@pytest.fixture(scope="session")
def stack(
    trained_model: Path,
    action_server: str,
    web_app_port: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """Start Rasa and the web app (the action server is already up and asks this web app
    for the support hours); stop both after."""
    folder = tmp_path_factory.mktemp("stack")
    action_port = int(action_server.split(":")[2].split("/")[0])
    endpoints = write_endpoints(action_port, path=folder / "endpoints.yml")
    rasa_port, web_port = free_port(), web_app_port
    rasa = rasa_service(rasa_port, endpoints, RASA_TOKEN, model=trained_model)
    rasa.log_path = folder / "rasa.log"
    web = web_service(web_port)
    web.log_path = folder / "web.log"
    base = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    web_env = {
        # Open around the clock, so the test does not depend on the day or time it runs;
        # the tests decide who picks a chat up, so the customer sees the queue first.
        **sandbox_web_env(base, folder, rasa_port, RASA_TOKEN),
        "BOT_RATE_ADDRESS": "1000",
        "BOT_RATE_NEW_CONVERSATIONS": "1000",
        "WIDGET_IDENTITY_SECRET": IDENTITY_SECRET,
    }
    services: list[Service] = [rasa, web]
    rasa.start(base)
    web.start(web_env)
    try:
        try:
            wait_until_healthy(services)
        except RuntimeError as problem:
            pytest.fail(f"the stack did not start: {problem}\n{rasa.log_tail()}\n{web.log_tail()}")
        yield Stack(
            f"http://127.0.0.1:{web_port}",
            f"http://127.0.0.1:{rasa_port}",
            RASA_TOKEN,
            folder / "app.db",
        )
    finally:
        for service in reversed(services):
            service.stop()
