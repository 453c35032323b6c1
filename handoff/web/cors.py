"""Cross-origin access to one API prefix: the shop's own sites may call it, others may not.

The widget runs on the shop's site (another origin than the chat server). Browsers let
its scripts read answers only when they carry ``Access-Control-Allow-Origin`` naming the
page's origin, and ask first (a preflight ``OPTIONS``) before a request with a JSON body
or an ``Authorization`` header. :class:`OriginPolicy` says which origins are the shop's;
:func:`register_cors` answers preflights and adds the headers for those origins only,
and refuses every request that names another origin (403) before its route runs, so a
page that is not the shop's never starts a conversation.

A request without ``Origin`` (curl, a server) is not a browser page and passes: an
``Origin`` header is only a browser's statement, spoofable by any other client, so it
grants nothing a client without it does not have (the tokens guard the conversations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse, HTTPResponse, empty

from .errors import ApiError

# `make run`'s demo: any local page may embed the widget (python -m http.server 8080).
DEMO_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*")
ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type"
EXPOSE_HEADERS = "Retry-After"
PREFLIGHT_MAX_AGE = "600"  # seconds a browser may reuse a preflight answer
NOT_ALLOWED = "chat is not available on this site (its origin is not allowed)"
# scheme://host[:port|:*], nothing else: no path, no wildcard host.
_ORIGIN = re.compile(r"^(https?)://([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(\d{1,5}|\*))?$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class OriginRule:
    """One allowed origin: scheme, host, and a port (None: any port)."""

    scheme: str
    host: str
    port: int | None

    def matches(self, scheme: str, host: str, port: int) -> bool:
        """True when the origin ``scheme://host:port`` is this rule's."""
        return (
            scheme == self.scheme and host == self.host and (self.port is None or self.port == port)
        )


def _split(origin: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of an origin (port None for ``:*``), or None if malformed."""
    found = _ORIGIN.match(origin.strip().lower())
    if found is None:
        return None
    scheme, host, port = found.groups()
    if port == "*":
        return scheme, host, None
    number = int(port) if port else _DEFAULT_PORTS[scheme]
    if not 0 < number < 65536:
        return None
    return scheme, host, number


def parse_origins(raw: str) -> tuple[OriginRule, ...]:
    """The rules of a comma-separated list (``https://shop.example, http://localhost:*``);
    ``ValueError`` naming the first entry that is not ``scheme://host[:port|:*]``."""
    rules = []
    for entry in raw.split(","):
        if not entry.strip():
            continue
        parts = _split(entry)
        if parts is None:
            raise ValueError(
                f"WIDGET_ORIGINS: {entry.strip()!r} is not an origin like "
                "https://shop.example or http://localhost:* (scheme, host, optional port; "
                "no path, no '*' for all sites)"
            )
        rules.append(OriginRule(*parts))
    return tuple(rules)


class OriginPolicy:
    """Which page origins may call the API: the listed ones and the server's own."""

    def __init__(self, rules: Iterable[OriginRule]) -> None:
        self.rules = tuple(rules)

    @classmethod
    def from_list(cls, origins: Iterable[str]) -> OriginPolicy:
        """A policy from origin strings (see :func:`parse_origins`)."""
        return cls(parse_origins(",".join(origins)))

    def allows(self, origin: str, own_origin: str | None = None) -> bool:
        """True when a page at ``origin`` may use the API (``own_origin``: the server's)."""
        parts = _split(origin)
        if parts is None:
            return False  # "null" (sandboxed frames, file://) and garbage
        scheme, host, port = parts
        assert port is not None  # _split gives None only for a "*" port, not in an Origin
        if own_origin is not None and _split(own_origin) == parts:
            return True
        return any(rule.matches(scheme, host, port) for rule in self.rules)


def own_origin(request: Request) -> str:
    """The origin the browser sees for this server (scheme and Host of the request).

    A websocket request's scheme is ``ws``/``wss``, but the page that opened it, and so
    its ``Origin``, is ``http``/``https``."""
    scheme = {"ws": "http", "wss": "https"}.get(request.scheme, request.scheme)
    return f"{scheme}://{request.host}"


def origin_allowed(request: Request, policy: OriginPolicy) -> bool:
    """True unless the request names an ``Origin`` the policy does not allow."""
    origin = request.headers.get("origin")
    return origin is None or policy.allows(origin, own_origin(request))


def register_cors(app: Sanic, prefix: str, policy_of: Callable[[Request], OriginPolicy]) -> None:
    """Answer preflights under ``prefix``, refuse foreign origins there (403 before the
    route runs), and add ``Access-Control-Allow-Origin`` + ``Vary: Origin`` for allowed
    ones. Call it after the routes under ``prefix`` are registered: each gets an
    ``OPTIONS`` twin (Sanic's router answers 405 to a method a path lacks, before any
    middleware). Websocket routes check the origin themselves (:func:`origin_allowed`)."""

    def applies(request: Request) -> bool:
        return request.path.startswith(prefix)

    async def preflight(request: Request, **_path: str) -> HTTPResponse:
        if not origin_allowed(request, policy_of(request)) or "origin" not in request.headers:
            raise ApiError(403, NOT_ALLOWED, {"Vary": "Origin"})
        return empty(
            headers={
                "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
            }
        )

    paths = sorted({"/" + route.path for route in app.router.routes})
    for number, path in enumerate(p for p in paths if p.startswith(prefix)):
        app.add_route(preflight, path, methods=["OPTIONS"], name=f"cors_preflight_{number}")

    async def refuse_foreign(request: Request) -> None:
        if applies(request) and request.method != "OPTIONS" and not _is_upgrade(request):
            if not origin_allowed(request, policy_of(request)):
                raise ApiError(403, NOT_ALLOWED, {"Vary": "Origin"})

    async def add_headers(request: Request, response: BaseHTTPResponse) -> None:
        if not applies(request):
            return
        response.headers["Vary"] = "Origin"
        origin = request.headers.get("origin")
        if origin is not None and origin_allowed(request, policy_of(request)):
            # The page's own origin, never "*": the answers hold conversation tokens.
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS

    app.register_middleware(refuse_foreign, "request")
    app.register_middleware(add_headers, "response")


def _is_upgrade(request: Request) -> bool:
    return request.headers.get("upgrade", "").lower() == "websocket"
