"""Compose the desk: ``create_app`` for the desk alone, ``register_handoff`` to add it
to an existing Sanic app (the customer side builds one app and registers both)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from sanic import Request, Sanic
from sanic.response import HTTPResponse, file

from . import db
from .api import create_api_blueprint
from .events import EventBus, InProcessEventBus
from .hours import OfficeHours, load_hours
from .http import API_PREFIX
from .redis_bus import RedisEventBus
from .redis_bus import connect as connect_redis
from .redis_limits import make_limiter
from .service import HandoffService
from .service.base import Clock, utcnow
from .settings import Settings, check_demo_host
from .throttle import LoginThrottle
from .web.errors import handle_error
from .web.security import security_headers
from .ws import create_ws_blueprint

logger = logging.getLogger("handoff")
STATIC_DIR = Path(__file__).resolve().parent / "static"
DESK_PREFIX = "/desk"


def register_handoff(
    app: Sanic,
    settings: Settings | None = None,
    *,
    bus: EventBus | None = None,
    hours: OfficeHours | None = None,
    clock: Clock = utcnow,
    background: bool = True,
) -> None:
    """Add the agent API, websocket, desk page and start-up listeners to ``app``.

    At start-up this puts on ``app.ctx``: ``handoff`` (the :class:`HandoffService`),
    ``handoff_bus`` (subscribe here for live events), ``handoff_engine`` and
    ``handoff_settings``. ``background`` runs periodic reassignment/auto-assignment.
    """
    settings = (settings or Settings.from_env()).with_secret()
    app.ctx.handoff_settings = settings
    app.ctx.handoff_bus = bus or make_bus(settings)
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
    app.blueprint(create_api_blueprint(f"{app.name}_handoff_api"))
    app.blueprint(create_ws_blueprint(f"{app.name}_handoff_ws"))

    @app.get(DESK_PREFIX, name="handoff_desk_page")
    async def desk_page(request: Request) -> HTTPResponse:
        return await file(STATIC_DIR / "index.html", mime_type="text/html; charset=utf-8")

    app.static(f"{DESK_PREFIX}/static", str(STATIC_DIR), name="handoff_desk_static")

    # One catch-all for the whole app: JSON errors on every API path (the customer's too).
    app.error_handler.add(Exception, handle_error)
    app.register_middleware(security_headers((DESK_PREFIX, API_PREFIX)), "response")

    async def start(app: Sanic, _loop: Any) -> None:
        if not app.state.asgi:  # the in-process test client binds nothing
            check_demo_host(settings.demo, app.state.host)
        if isinstance(app.ctx.handoff_bus, RedisEventBus):
            await app.ctx.handoff_bus.start()  # Redis down: a clear error naming REDIS_URL
        engine = db.create_engine(settings.database_url)
        await db.upgrade(engine)
        app.ctx.handoff_engine = engine
        app.ctx.handoff = HandoffService(
            engine, app.ctx.handoff_bus, settings, hours or load_hours(settings.shop_file), clock
        )
        if settings.demo:
            await app.ctx.handoff.ensure_demo_agent()
            logger.warning(
                "DEMO MODE: agent 'demo' with password 'demo' exists. Never use demo "
                "mode on a reachable server; create real agents with python -m handoff.cli"
            )

    async def started(app: Sanic, _loop: Any) -> None:
        if background:
            app.ctx.handoff_housekeeping = asyncio.ensure_future(_housekeeping(app))

    async def stopping(app: Sanic, _loop: Any) -> None:
        task = getattr(app.ctx, "handoff_housekeeping", None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def stopped(app: Sanic, _loop: Any) -> None:
        engine = getattr(app.ctx, "handoff_engine", None)
        if engine is not None:
            await engine.dispose()
        if isinstance(app.ctx.handoff_bus, RedisEventBus):
            await app.ctx.handoff_bus.close()
        if app.ctx.redis is not None:
            await app.ctx.redis.close(close_connection_pool=True)

    app.register_listener(start, "before_server_start")
    app.register_listener(started, "after_server_start")
    app.register_listener(stopping, "before_server_stop")
    app.register_listener(stopped, "after_server_stop")


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
    app = Sanic(name)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    register_handoff(app, settings, **options)

    @app.get("/", name="handoff_root")
    async def root(request: Request) -> HTTPResponse:
        from sanic.response import redirect

        return redirect(DESK_PREFIX)

    return app
