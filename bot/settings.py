"""Settings of the customer side, read from the environment once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

from handoff.contract import MAX_MESSAGE_CHARS
from handoff.settings import PROJECT_ROOT, env_bool, env_int, env_seconds
from handoff.web.cors import DEMO_ORIGINS, parse_origins

DEFAULT_RASA_URL = "http://127.0.0.1:5005"
RASA_TOKEN_FILE = PROJECT_ROOT / "var" / "rasa-token"


def _read_token_file(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def rasa_urls(raw: str) -> tuple[str, ...]:
    """``RASA_URLS``: comma-separated http(s) URLs; a clear error for anything else."""
    urls = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"RASA_URLS must be comma-separated http(s) URLs of Rasa servers, got {url!r}"
            )
    if len(set(urls)) != len(urls):
        raise ValueError(f"RASA_URLS names a server twice: {raw!r}")
    return urls


@dataclass(frozen=True)
class BotSettings:
    """Everything the customer side can be configured with (see :meth:`from_env`)."""

    rasa_url: str = DEFAULT_RASA_URL
    # Several Rasa servers on one tracker store (RASA_URLS); empty: only rasa_url.
    rasa_urls: tuple[str, ...] = ()
    rasa_token: str | None = None
    rasa_timeout_seconds: float = 30.0
    # Rasa serialises its CPU work (~20 messages/s on 2 cores): more requests at once
    # only queue inside Rasa, past our timeout. Beyond this many (per web worker, over
    # all its Rasa servers), wait for a slot...
    rasa_max_in_flight: int = 8
    # ...at most this long, then tell the customer the assistant is busy.
    rasa_queue_seconds: float = 10.0
    # None: derived from the desk's secret, so there is one secret file to keep.
    secret_key: str | None = None
    token_ttl_seconds: int = 24 * 3600
    host: str = "127.0.0.1"
    port: int = 8000
    max_message_chars: int = MAX_MESSAGE_CHARS
    # Per conversation: a person types a few messages a minute; a script types more.
    conversation_messages_per_minute: int = 20
    # Per client address: many customers can share one address (offices, mobile NAT).
    address_messages_per_minute: int = 120
    address_conversations_per_minute: int = 20
    transcripts_per_conversation: int = 3
    transcripts_per_recipient: int = 3  # per day, whatever the conversation
    # Header and body of one request must be in within this many seconds (slow clients).
    request_seconds: int = 20
    # Open connections one address may hold (0: no cap). Off behind a reverse proxy,
    # where every connection comes from the proxy: cap there instead.
    connections_per_address: int = 50
    websockets_per_conversation: int = 5
    # Reverse proxies in front of the app: with 1 or more, the client address (rate
    # limits) is read from X-Forwarded-For, as many hops from the right. 0: the peer.
    proxies_count: int = 0
    smtp_host: str | None = None
    smtp_port: int = 25
    # An agent's reply to a customer who left (no widget connected for this long after
    # it) goes by e-mail to the address they left in the chat; 0 turns this off.
    email_after_seconds: float = 30.0
    # None: the shop's name and support_email of shop.yml.
    smtp_sender: str | None = None
    # Sites (origins) whose pages may embed the widget, besides this server's own.
    widget_origins: tuple[str, ...] = ()
    # Shared with the shop's server, which signs its logged-in customer (bot/identity.py);
    # None: identities are ignored and every chat is anonymous.
    identity_secret: str | None = None
    # A signature older than this is refused, so a copied page cannot be replayed forever.
    identity_max_age_seconds: int = 24 * 3600

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BotSettings:
        """Build settings from environment variables, with safe local defaults.

        Variables: ``RASA_URL``, ``RASA_URLS`` (several Rasa servers sharing one
        tracker store, comma-separated; overrides ``RASA_URL``), ``RASA_TOKEN`` (else
        the file ``var/rasa-token`` that ``make run`` writes; one token for all the
        servers), ``RASA_TIMEOUT``, ``BOT_RASA_MAX_IN_FLIGHT`` (requests to Rasa at
        once from this web worker, over all its Rasa servers, default 8),
        ``BOT_RASA_QUEUE_SECONDS`` (how long a request waits for one of those slots
        before the customer is told the assistant is busy, default 10),
        ``BOT_SECRET_KEY``, ``BOT_TOKEN_TTL``,
        ``BOT_HOST``, ``PORT`` / ``BOT_PORT``, ``BOT_MAX_MESSAGE_CHARS``,
        ``BOT_RATE_CONVERSATION``, ``BOT_RATE_ADDRESS``, ``BOT_RATE_NEW_CONVERSATIONS``
        (per minute), ``BOT_TRANSCRIPTS_PER_CONVERSATION``,
        ``BOT_TRANSCRIPTS_PER_RECIPIENT`` (per day), ``BOT_REQUEST_SECONDS``,
        ``BOT_CONNECTIONS_PER_ADDRESS``, ``BOT_WEBSOCKETS_PER_CONVERSATION``,
        ``BOT_PROXIES_COUNT``, ``SMTP_HOST``,
        ``SMTP_PORT``, ``SMTP_SENDER``, ``WIDGET_ORIGINS`` (comma-separated; unset in
        demo mode, ``HANDOFF_DEMO``: any localhost/127.0.0.1 port),
        ``WIDGET_IDENTITY_SECRET``, ``WIDGET_IDENTITY_MAX_AGE``.
        """
        env = os.environ if env is None else env
        token = env.get("RASA_TOKEN") or _read_token_file(
            Path(env.get("RASA_TOKEN_FILE") or RASA_TOKEN_FILE)
        )
        secret = env.get("BOT_SECRET_KEY") or None
        if secret is not None and len(secret) < 32:
            raise ValueError("BOT_SECRET_KEY must be at least 32 characters")
        try:
            timeout = float(env.get("RASA_TIMEOUT") or 30.0)
        except ValueError:
            raise ValueError("RASA_TIMEOUT must be a number of seconds") from None
        max_chars = env_int(env, "BOT_MAX_MESSAGE_CHARS", MAX_MESSAGE_CHARS, 1)
        if max_chars > MAX_MESSAGE_CHARS:
            # A longer message would pass here and be refused by the store.
            raise ValueError(
                f"BOT_MAX_MESSAGE_CHARS must be at most {MAX_MESSAGE_CHARS} "
                f"(the longest message the desk stores), got {max_chars}"
            )
        origins = env.get("WIDGET_ORIGINS")
        if origins is None:
            origins = ",".join(DEMO_ORIGINS) if env_bool(env, "HANDOFF_DEMO", False) else ""
        parse_origins(origins)  # a mistyped origin stops the start, with the entry named
        identity_secret = env.get("WIDGET_IDENTITY_SECRET") or None
        if identity_secret is not None and len(identity_secret) < 32:
            raise ValueError("WIDGET_IDENTITY_SECRET must be at least 32 characters")
        urls = rasa_urls(env.get("RASA_URLS") or "")
        return cls(
            rasa_url=urls[0] if urls else (env.get("RASA_URL") or DEFAULT_RASA_URL).rstrip("/"),
            rasa_urls=urls,
            rasa_token=token,
            rasa_timeout_seconds=timeout,
            rasa_max_in_flight=env_int(env, "BOT_RASA_MAX_IN_FLIGHT", 8, 1),
            rasa_queue_seconds=env_seconds(env, "BOT_RASA_QUEUE_SECONDS", 10.0),
            secret_key=secret,
            token_ttl_seconds=env_int(env, "BOT_TOKEN_TTL", 24 * 3600, 60),
            host=env.get("BOT_HOST") or "127.0.0.1",
            port=env_int(env, "BOT_PORT", env_int(env, "PORT", 8000, 1), 1),
            max_message_chars=max_chars,
            conversation_messages_per_minute=env_int(env, "BOT_RATE_CONVERSATION", 20, 1),
            address_messages_per_minute=env_int(env, "BOT_RATE_ADDRESS", 120, 1),
            address_conversations_per_minute=env_int(env, "BOT_RATE_NEW_CONVERSATIONS", 20, 1),
            transcripts_per_conversation=env_int(env, "BOT_TRANSCRIPTS_PER_CONVERSATION", 3, 0),
            transcripts_per_recipient=env_int(env, "BOT_TRANSCRIPTS_PER_RECIPIENT", 3, 1),
            request_seconds=env_int(env, "BOT_REQUEST_SECONDS", 20, 1),
            connections_per_address=env_int(env, "BOT_CONNECTIONS_PER_ADDRESS", 50, 0),
            websockets_per_conversation=env_int(env, "BOT_WEBSOCKETS_PER_CONVERSATION", 5, 1),
            proxies_count=env_int(env, "BOT_PROXIES_COUNT", 0, 0),
            smtp_host=env.get("SMTP_HOST") or None,
            smtp_port=env_int(env, "SMTP_PORT", 25, 1),
            smtp_sender=env.get("SMTP_SENDER") or None,
            widget_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            identity_secret=identity_secret,
            identity_max_age_seconds=env_int(env, "WIDGET_IDENTITY_MAX_AGE", 24 * 3600, 60),
            email_after_seconds=env_seconds(env, "BOT_EMAIL_AFTER", 30.0),
        )

    @property
    def rasa_servers(self) -> tuple[str, ...]:
        """Every Rasa server to spread messages over."""
        return self.rasa_urls or (self.rasa_url,)

    @property
    def transcript_email_enabled(self) -> bool:
        """E-mailing transcripts needs an SMTP server."""
        return self.smtp_host is not None and self.transcripts_per_conversation > 0
