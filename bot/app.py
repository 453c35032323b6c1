"""Compose the one web process: the customer side (``bot``) and the desk (``handoff``).

:func:`create_app` builds the app (settings, routes, limits); :class:`Composition` is the
composition root: at start-up it builds settings → engine → HandoffService → Rasa client
→ gateway → reactor in that order, and at shut-down takes them down in reverse.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sanic import Sanic

from handoff.app import Desk, register_handoff
from handoff.redis_limits import make_limiter
from handoff.settings import Settings as HandoffSettings
from handoff.web.cors import OriginPolicy, register_cors
from handoff.web.security import security_headers
from handoff.web.serving import mount, new_app

from . import api, pages, returning, ws
from .continuation import EmailContinuation
from .gateway import Gateway
from .rasa_client import RasaClient
from .reactor import Reactor
from .recovery import Recovery
from .settings import BotSettings
from .tokens import derive_secret
from .widgets import ConnectedWidgets

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
    app = new_app(name)
    app.config.REQUEST_MAX_SIZE = REQUEST_MAX_BYTES
    # Whole header + body deadline and connection cap: enforced by GuardedProtocol.
    app.config.REQUEST_TIMEOUT = settings.request_seconds
    app.config.CONNECTIONS_PER_ADDRESS = (
        0 if settings.proxies_count else settings.connections_per_address
    )
    if settings.proxies_count:
        app.config.PROXIES_COUNT = settings.proxies_count
    app.ctx.bot_settings = settings
    app.ctx.widget_origins = OriginPolicy.from_list(settings.widget_origins)
    desk = register_handoff(app, handoff_settings, **handoff_options)
    # Open widget sockets: this worker's, and with REDIS_URL every worker's.
    app.ctx.widgets = ConnectedWidgets(app.ctx.redis)
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
    # returning before the API: "/recent" is not a conversation id
    mount(app, pages.bp, returning.bp, api.bp, ws.bp)
    # The widget runs on the shop's own sites: other origins, allowed by configuration.
    # After every customer route: it adds an OPTIONS route per path.
    register_cors(app, api.PREFIX, lambda request: request.app.ctx.widget_origins)
    # The shop page and widget files too (the desk's middleware covers only its paths).
    app.register_middleware(security_headers(), "response")
    Composition(settings, desk).listen(app)
    return app


class Composition:
    """The composition root of the web process: every long-lived part, built in order."""

    def __init__(self, settings: BotSettings, desk: Desk) -> None:
        self.settings = settings
        self.desk = desk

    async def start(self, app: Sanic, _loop: Any = None) -> None:
        """Before the server accepts a connection: build the parts, each from the last."""
        settings = self.settings
        # settings → engine → HandoffService (the database is migrated first)
        service = await self.desk.open(app)
        app.ctx.bot_secret = settings.secret_key or derive_secret(self.desk.secret_key)
        # → Rasa client
        app.ctx.rasa = RasaClient(
            settings.rasa_servers,
            settings.rasa_token,
            settings.rasa_timeout_seconds,
            max_in_flight=settings.rasa_max_in_flight,
            queue_seconds=settings.rasa_queue_seconds,
        )
        wording = service.wording  # shop.yml's messages, read when the service was built
        app.ctx.widget_js = pages.widget_script(wording.shop_name)
        # → gateway (the customer's operations) → reactor (desk events → customer notices)
        app.ctx.gateway = Gateway(service, app.ctx.rasa, wording)
        app.ctx.reactor = Reactor(self.desk.bus, app.ctx.gateway)
        app.ctx.reactor.subscribe()  # now, so no event between here and run() is missed
        # → e-mail continuation (agent replies to a customer who left go by e-mail)
        app.ctx.continuation = EmailContinuation(self.desk.bus, service, settings, app.ctx.widgets)
        app.ctx.continuation.subscribe()

    async def started(self, app: Sanic, _loop: Any = None) -> None:
        """The server is up: background work starts."""
        self.desk.start_housekeeping(app)
        app.ctx.reactor_task = asyncio.ensure_future(app.ctx.reactor.run())
        app.ctx.continuation_task = asyncio.ensure_future(app.ctx.continuation.run())
        app.ctx.widgets_task = asyncio.ensure_future(app.ctx.widgets.keep_alive())
        # Questions the last run left unanswered (stopped mid-answer): found now, settled
        # in the background, since that may wait for Rasa.
        settings = self.settings
        if self.desk.settings.redis_url:
            # Other workers may be answering right now: only what is older than any of
            # them waits for Rasa (found after that long) is theirs no more.
            grace = settings.rasa_timeout_seconds + settings.rasa_queue_seconds + 5.0
            recovery = Recovery(app.ctx.gateway, grace_seconds=grace)
            app.ctx.recovery_task = asyncio.ensure_future(recovery.find_and_settle())
        else:
            recovery = Recovery(app.ctx.gateway)
            found = await recovery.find()
            app.ctx.recovery_task = asyncio.ensure_future(recovery.settle(found)) if found else None

    async def stopping(self, app: Sanic, _loop: Any = None) -> None:
        """Before the connections close: background work ends, newest first."""
        recovery = getattr(app.ctx, "recovery_task", None)
        if recovery is not None:
            # Let answers being stored finish, as the gateway's drain does.
            await asyncio.wait({recovery}, timeout=DRAIN_SECONDS)
        tasks = ("reactor_task", "continuation_task", "widgets_task")
        for task in (recovery, *(getattr(app.ctx, name, None) for name in tasks)):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self.desk.stop_housekeeping(app)

    async def stopped(self, app: Sanic, _loop: Any = None) -> None:
        """After the connections closed: the parts go in reverse order of building."""
        gateway = getattr(app.ctx, "gateway", None)
        if gateway is not None:
            await gateway.drain(DRAIN_SECONDS)
        rasa = getattr(app.ctx, "rasa", None)
        if rasa is not None:
            await rasa.close()
        await self.desk.close(app)

    def listen(self, app: Sanic) -> None:
        """Run the four steps as ``app``'s listeners (Sanic passes them the app and loop)."""
        app.register_listener(self.start, "before_server_start")
        app.register_listener(self.started, "after_server_start")
        app.register_listener(self.stopping, "before_server_stop")
        app.register_listener(self.stopped, "after_server_stop")
