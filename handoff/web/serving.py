"""Serving the web app: one way for ``python -m bot`` and ``python -m handoff``."""

from __future__ import annotations

import logging.config

from sanic import Blueprint, Sanic
from sanic.log import LOGGING_CONFIG_DEFAULTS

from ..protocol import GuardedProtocol
from ..redis_bus import RedisUnavailable, ensure_reachable
from ..settings import Settings, check_demo_host


def new_app(name: str) -> Sanic:
    """An empty app whose errors default to JSON, leaving the process's logging alone.

    Sanic would set up its loggers here with ``dictConfig``, which closes every logging
    handler of the process: a test run's or a benchmark's too (an absl handler then closed
    pytest's captured stderr). :func:`serve` sets them up, in the process that serves.
    """
    app = Sanic(name, configure_logging=False)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    return app


def mount(app: Sanic, *blueprints: Blueprint) -> None:
    """Register a copy of each module-level blueprint on ``app``.

    A copy, not the blueprint itself: Sanic 21.12 lets one blueprint join several apps,
    but it then keeps every app it joined and all their routes, and tests build many apps.
    """
    for blueprint in blueprints:
        app.blueprint(blueprint.copy(blueprint.name, with_registration=False))


def serving_problem(settings: Settings, host: str) -> str | None:
    """Why a web process must not start serving on ``host`` (None: nothing): demo mode on
    an address others can reach, or a ``REDIS_URL`` that does not answer."""
    try:
        check_demo_host(settings.demo, host)
        if settings.redis_url:
            ensure_reachable(settings.redis_url)
    except (ValueError, RedisUnavailable) as problem:
        return str(problem)
    return None


def serve(app: Sanic, host: str, port: int, *, banner: bool = True) -> None:
    """Run ``app`` until stopped: one worker (the in-process event bus and rate limits
    live in this process), no access log (URLs stay out of logs), and the guarded
    protocol (request deadlines, connections per address)."""
    logging.config.dictConfig(LOGGING_CONFIG_DEFAULTS)  # Sanic's loggers (see new_app)
    app.run(
        host=host,
        port=port,
        access_log=False,
        workers=1,
        motd=banner,
        protocol=GuardedProtocol,
    )
