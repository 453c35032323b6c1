"""Compose the one web process: the customer side (``bot``) and the desk (``handoff``)."""

from __future__ import annotations

import asyncio
from typing import Any

from sanic import Sanic

from handoff.app import register_handoff
from handoff.redis_limits import make_limiter
from handoff.settings import Settings as HandoffSettings
from handoff.web.security import security_headers

from .api import create_api_blueprint
from .gateway import Gateway
from .pages import create_pages_blueprint, widget_script
from .rasa_client import RasaClient
from .reactor import Reactor
from .recovery import Recovery
from .settings import BotSettings
from .tokens import derive_secret
from .ws import create_ws_blueprint

REQUEST_MAX_BYTES = 256 * 1024  # a 2000-character message is far below this
# At shutdown, customer operations still running (a Rasa answer on its way) get this
# long to be stored before Rasa's connections and the database close.
DRAIN_SECONDS = 5.0


def create_app(
    settings: BotSettings | None = None,
    handoff_settings: HandoffSettings | None = None,
    *,
    name: str = "larkspur",
    **handoff_options: Any,
) -> Sanic:
    """The web app: shop page, widget, customer API + websocket, and the agent desk.

    ``handoff_options`` go to :func:`handoff.app.register_handoff` (``hours``,
    ``background``, ``clock``, ``bus``). At start-up ``app.ctx`` gets ``gateway``,
    ``rasa`` and ``bot_secret`` besides the desk's ``handoff`` and ``handoff_bus``.
    """
    settings = settings or BotSettings.from_env()
    app = Sanic(name)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.REQUEST_MAX_SIZE = REQUEST_MAX_BYTES
    # Whole header + body deadline and connection cap: enforced by GuardedProtocol.
    app.config.REQUEST_TIMEOUT = settings.request_seconds
    app.config.CONNECTIONS_PER_ADDRESS = (
        0 if settings.proxies_count else settings.connections_per_address
    )
    if settings.proxies_count:
        app.config.PROXIES_COUNT = settings.proxies_count
    app.ctx.bot_settings = settings
    app.ctx.sockets_per_conversation = {}
    register_handoff(app, handoff_settings, **handoff_options)
    # Limits live on the app, not in a listener: they outlive a server restart in tests.
    # With REDIS_URL (app.ctx.redis, set by the desk) every worker shares them.
    day = 24 * 3600
    app.ctx.limits = {
        name: make_limiter(app.ctx.redis, name, limit, window)
        for name, limit, window in (
            ("conversation", settings.conversation_messages_per_minute, 60),
            ("address", settings.address_messages_per_minute, 60),
            ("new", settings.address_conversations_per_minute, 60),
            ("transcript", max(1, settings.transcripts_per_conversation), day),
            # Across conversations: new chats must not multiply the mail one inbox receives.
            ("transcript_recipient", max(1, settings.transcripts_per_recipient), day),
        )
    }
    app.blueprint(create_pages_blueprint(f"{name}_pages"))
    app.blueprint(create_api_blueprint(f"{name}_customer_api"))
    app.blueprint(create_ws_blueprint(f"{name}_customer_ws"))

    # The shop page and widget files too (the desk's middleware covers only its paths).
    app.register_middleware(security_headers(), "response")

    async def start(app: Sanic, _loop: Any) -> None:
        # Runs after the desk's own start-up listener, so app.ctx.handoff exists.
        app.ctx.bot_secret = settings.secret_key or derive_secret(
            app.ctx.handoff_settings.secret_key
        )
        app.ctx.rasa = RasaClient(
            settings.rasa_servers,
            settings.rasa_token,
            settings.rasa_timeout_seconds,
            max_in_flight=settings.rasa_max_in_flight,
            queue_seconds=settings.rasa_queue_seconds,
        )
        wording = app.ctx.handoff.wording  # shop.yml's messages, read by the desk's start-up
        app.ctx.widget_js = widget_script(wording.shop_name)
        app.ctx.gateway = Gateway(app.ctx.handoff, app.ctx.rasa, wording)
        app.ctx.reactor = Reactor(app.ctx.handoff_bus, app.ctx.gateway)
        app.ctx.reactor.subscribe()

    async def started(app: Sanic, _loop: Any) -> None:
        app.ctx.reactor_task = asyncio.ensure_future(app.ctx.reactor.run())
        # Questions the last run left unanswered (stopped mid-answer): found now, settled
        # in the background, since that may wait for Rasa.
        if app.ctx.handoff_settings.redis_url:
            # Other workers may be answering right now: only what is older than any of
            # them waits for Rasa (found after that long) is theirs no more.
            grace = settings.rasa_timeout_seconds + settings.rasa_queue_seconds + 5.0
            recovery = Recovery(app.ctx.gateway, grace_seconds=grace)
            app.ctx.recovery_task = asyncio.ensure_future(recovery.find_and_settle())
        else:
            recovery = Recovery(app.ctx.gateway)
            found = await recovery.find()
            app.ctx.recovery_task = asyncio.ensure_future(recovery.settle(found)) if found else None

    async def stopping(app: Sanic, _loop: Any) -> None:
        recovery = getattr(app.ctx, "recovery_task", None)
        if recovery is not None:
            # Let answers being stored finish, as the gateway's drain does.
            await asyncio.wait({recovery}, timeout=DRAIN_SECONDS)
        for task in (recovery, getattr(app.ctx, "reactor_task", None)):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def stopped(app: Sanic, _loop: Any) -> None:
        # After the connections closed (requests done or cut off), before the desk's
        # own after-stop listener disposes of the database: shutdown listeners run in
        # reverse order of registration, and this one is registered after the desk's.
        gateway = getattr(app.ctx, "gateway", None)
        if gateway is not None:
            await gateway.drain(DRAIN_SECONDS)
        rasa = getattr(app.ctx, "rasa", None)
        if rasa is not None:
            await rasa.close()

    app.register_listener(start, "before_server_start")
    app.register_listener(started, "after_server_start")
    app.register_listener(stopping, "before_server_stop")
    app.register_listener(stopped, "after_server_stop")
    return app
