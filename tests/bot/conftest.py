"""Fixtures of the customer-side tests (helpers live in bot_support.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, AsyncIterator, Callable

import pytest
import pytest_asyncio
from bot_support import (
    FakeRasa,
    Inbox,
    LiveApp,
    bot_settings,
    desk_settings,
    free_port,
    unique_name,
)

from bot.app import create_app
from handoff.hours import ALWAYS_OPEN


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("filterwarnings", "ignore:You have set a listener for:UserWarning")


@pytest_asyncio.fixture
async def fake_rasa() -> AsyncIterator[FakeRasa]:
    """A running fake Rasa."""
    fake = FakeRasa()
    await fake.start()
    yield fake
    await fake.stop()


@pytest_asyncio.fixture
async def make_live(tmp_path: Path, fake_rasa: FakeRasa) -> AsyncIterator[Callable[..., Any]]:
    """Factory: ``await make_live(bot_overrides={}, desk_overrides={})`` -> running LiveApp."""
    apps: list[LiveApp] = []

    async def factory(
        bot_overrides: dict[str, Any] | None = None, desk_overrides: dict[str, Any] | None = None
    ) -> LiveApp:
        app = create_app(
            bot_settings(fake_rasa.url, **(bot_overrides or {})),
            desk_settings(tmp_path, **(desk_overrides or {})),
            name=unique_name(),
            hours=ALWAYS_OPEN,
            background=False,
        )
        live = LiveApp(app, free_port())
        await live.start()
        apps.append(live)
        return live

    yield factory
    for live in apps:
        await live.stop()


@pytest_asyncio.fixture
async def live(make_live: Callable[..., Any]) -> LiveApp:
    """The web app with default test settings, talking to the fake Rasa."""
    return await make_live()


@pytest.fixture
def smtp() -> Any:
    """A real SMTP server (aiosmtpd) on a free port: ``(inbox, port)``."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()
