"""Compose the desk: ``create_app`` for the desk alone, ``register_handoff`` to add it
to an existing Sanic app (the customer side builds one app and registers both).

:class:`Desk` holds the desk's start-up and shut-down steps; whoever composes the
process calls them in order (``Desk.listen`` for the desk alone, ``bot.app`` for the
whole web app), so no step depends on the order listeners happen to run in.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from sanic import Sanic

from . import admin_api, api, customers_api, db, desk_api, pages, ws
from .events import EventBus, InProcessEventBus
from .hours import OfficeHours, load_hours
from .http import API_PREFIX
from .presence import Throttle
from .redis_bus import RedisEventBus
from .redis_bus import connect as connect_redis
from .redis_limits import make_limiter
from .service import HandoffService
from .service.base import Clock, utcnow
from .settings import Settings, check_demo_host
from .throttle import LoginThrottle
from .web.errors import handle_error
from .web.security import security_headers
from .web.serving import mount, new_app

logger = logging.getLogger("handoff")


@dataclass
class Desk:
    """The desk's long-lived parts, opened and closed in steps.

    ``background`` runs periodic reassignment/auto-assignment once the server started.
    """

    settings: Settings
    bus: EventBus
    hours: OfficeHours | None = None
    clock: Clock = utcnow
    background: bool = True

    @property
    def secret_key(self) -> str:
        """The desk's signing key (:func:`register_handoff` made sure there is one)."""
        key = self.settings.secret_key
        if key is None:
            raise RuntimeError("the desk's settings have no secret key: use with_secret()")
        return key

    async def open(self, app: Sanic) -> HandoffService:
        """Settings → engine (migrated to the latest schema) → :class:`HandoffService`,
        put on ``app.ctx`` as ``handoff_engine`` and ``handoff``."""
        settings = self.settings
        if not app.state.asgi:  # the in-process test client binds nothing
            check_demo_host(settings.demo, app.state.host)
        if isinstance(self.bus, RedisEventBus):
            await self.bus.start()  # Redis down: a clear error naming REDIS_URL
        engine = db.create_engine(settings.database_url)
        await db.upgrade(engine)
        app.ctx.handoff_engine = engine
        hours = self.hours or load_hours(settings.shop_file)
        service = HandoffService(engine, self.bus, settings, hours, self.clock)
        app.ctx.handoff = service
        if self.hours is None:  # hours edited in the desk win over the file's
            await service.office_hours.load()
            # An edit on another web worker applies here too (its event on the bus).
            app.ctx.handoff_hours_task = asyncio.ensure_future(service.office_hours.follow())
        if settings.demo:
            await service.ensure_demo_agent()
            logger.warning(
                "DEMO MODE: agent 'demo' with password 'demo' exists. Never use demo "
                "mode on a reachable server; create real agents with python -m handoff.cli"
            )
        return service

    def start_housekeeping(self, app: Sanic) -> None:
        """Start the periodic reassignment (when ``background``); the server is up."""
        if self.background:
            app.ctx.handoff_housekeeping = asyncio.ensure_future(_housekeeping(app))

    async def stop_housekeeping(self, app: Sanic) -> None:
        """Cancel the periodic reassignment and wait for it to end."""
        task = getattr(app.ctx, "handoff_housekeeping", None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def close(self, app: Sanic) -> None:
        """Dispose of the engine: the last step, after every request ended."""
        hours_task = getattr(app.ctx, "handoff_hours_task", None)
        if hours_task is not None:
            hours_task.cancel()
            await asyncio.gather(hours_task, return_exceptions=True)
        engine = getattr(app.ctx, "handoff_engine", None)
        if engine is not None:
            await db.close_engine(engine)
        if isinstance(self.bus, RedisEventBus):
            await self.bus.close()
        redis = getattr(app.ctx, "redis", None)
        if redis is not None:
            await redis.close(close_connection_pool=True)

    def listen(self, app: Sanic) -> None:
        """Run these steps as ``app``'s listeners: for the desk served alone."""

        async def start(app: Sanic, _loop: Any) -> None:
            await self.open(app)

        async def started(app: Sanic, _loop: Any) -> None:
            self.start_housekeeping(app)

        async def stopping(app: Sanic, _loop: Any) -> None:
            await self.stop_housekeeping(app)

        async def stopped(app: Sanic, _loop: Any) -> None:
            await self.close(app)

        app.register_listener(start, "before_server_start")
        app.register_listener(started, "after_server_start")
        app.register_listener(stopping, "before_server_stop")
        app.register_listener(stopped, "after_server_stop")


def register_handoff(
    app: Sanic,
    settings: Settings | None = None,
    *,
    bus: EventBus | None = None,
    hours: OfficeHours | None = None,
    clock: Clock = utcnow,
    background: bool = True,
) -> Desk:
    """Add the agent API, websocket, desk page, error handler and headers to ``app``;
    return the :class:`Desk` whose steps the caller runs at start-up and shut-down.

    Puts ``handoff_settings`` and ``handoff_bus`` (subscribe here for live events) on
    ``app.ctx`` now; :meth:`Desk.open` adds ``handoff`` and ``handoff_engine``.
    """
    settings = (settings or Settings.from_env()).with_secret()
    desk = Desk(settings, bus or make_bus(settings), hours, clock, background)
    app.ctx.handoff_settings = settings
    app.ctx.handoff_bus = desk.bus
    app.ctx.handoff_logger = logger
    # On the app, not in a listener: like the rate limits, it outlives a server restart
    # in tests (a new process starts with no failures counted).
    # With REDIS_URL the limits are shared by every worker (no I/O until first used).
    app.ctx.redis = connect_redis(settings.redis_url) if settings.redis_url else None
    window = settings.login_window_seconds
    app.ctx.login_throttle = LoginThrottle(
        make_limiter(app.ctx.redis, "login", settings.login_failures_per_login, window),
        make_limiter(app.ctx.redis, "login-address", settings.login_failures_per_address, window),
        settings.login_slowdown_seconds,
    )
    # Typing indicators, both sockets: one throttle per process (never stored).
    app.ctx.typing_throttle = Throttle()
    # desk_api: saved replies, notes, labels (every agent); admin_api: /api/admin and
    # /desk/admin (admins only)
    mount(app, api.bp, customers_api.bp, desk_api.desk_bp, admin_api.admin_bp, ws.bp, pages.bp)
    # One catch-all for the whole app: JSON errors on every API path (the customer's too).
    app.error_handler.add(Exception, handle_error)
    app.register_middleware(security_headers((pages.DESK_PREFIX, API_PREFIX)), "response")
    return desk


def make_bus(settings: Settings) -> EventBus:
    """Redis pub/sub when ``REDIS_URL`` is set (several web workers), else in-process."""
    return RedisEventBus(settings.redis_url) if settings.redis_url else InProcessEventBus()


async def _housekeeping(app: Sanic) -> None:
    """Reassign unanswered chats and fill free capacity, every few seconds."""
    service: HandoffService = app.ctx.handoff
    settings: Settings = app.ctx.handoff_settings
    while True:
        await asyncio.sleep(settings.housekeeping_interval_seconds)
        try:
            await service.reassign_unanswered()
            if settings.auto_assign:
                await service.auto_assign()
        except Exception:  # keep the loop alive; the next round retries
            logger.exception("handoff housekeeping failed")


def create_app(
    settings: Settings | None = None,
    name: str = "handoff_desk",
    **options: Any,
) -> Sanic:
    """A Sanic app serving only the agent desk (see :func:`register_handoff`)."""
    app = new_app(name)
    desk = register_handoff(app, settings, **options)
    mount(app, pages.root_bp)
    desk.listen(app)
    return app
