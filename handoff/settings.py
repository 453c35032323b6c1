"""Settings of the agent desk, read from the environment once at start-up."""

from __future__ import annotations

import ipaddress
import math
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    """An integer setting: `default` when unset, a clear error when not a number or too small."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A duration in seconds (0 or more): a clear error when not a number."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a number of seconds, 0 or more, got {raw!r}")
    return value


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_demo_host(demo: bool, host: str) -> None:
    """Refuse demo mode (agent ``demo``/``demo``) on an address others can reach."""
    if demo and not is_loopback(host):
        raise ValueError(
            f"demo mode (agent demo/demo) only runs on a loopback address, not {host!r}: "
            "bind to 127.0.0.1, or create real agents (python -m handoff.cli add) and "
            "turn HANDOFF_DEMO off"
        )


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    """A yes/no setting (1/true/yes/on)."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Everything the desk can be configured with (see :meth:`from_env`)."""

    data_dir: Path
    database_url: str
    secret_key: str | None = None
    token_ttl_seconds: int = 12 * 3600
    reassign_after_seconds: int = 180
    agent_cap: int = 3
    shop_file: Path = PROJECT_ROOT / "shop.yml"
    # The FAQ topic map the routing rules (shop.yml's ``routing``) are read with.
    topics_file: Path = PROJECT_ROOT / "topics.yml"
    auto_assign: bool = True
    demo: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    presence_timeout_seconds: int = 90
    # A desk with no keyboard or mouse use for this long turns Away (no new chats).
    idle_away_seconds: int = 300
    housekeeping_interval_seconds: float = 5.0
    # Failed sign-ins per login name and per address within the window; past half of
    # either, each failure is answered after a pause; at the limit, 429 until it frees.
    login_failures_per_login: int = 10
    login_failures_per_address: int = 50
    login_window_seconds: int = 900
    login_slowdown_seconds: float = 1.0
    # With several web workers: Redis carries their live events and shared rate limits.
    redis_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables, with safe local defaults.

        Variables: ``DATABASE_URL``, ``HANDOFF_DATA_DIR``, ``HANDOFF_SECRET_KEY``,
        ``HANDOFF_TOKEN_TTL``, ``HANDOFF_REASSIGN_AFTER``, ``HANDOFF_AGENT_CAP``,
        ``HANDOFF_SHOP_FILE``, ``HANDOFF_TOPICS_FILE``, ``HANDOFF_AUTO_ASSIGN``, ``HANDOFF_DEMO``,
        ``HANDOFF_HOST``, ``HANDOFF_PORT`` (or ``PORT``), ``HANDOFF_PRESENCE_TIMEOUT``,
        ``HANDOFF_IDLE_AWAY``,
        ``HANDOFF_LOGIN_FAILURES``, ``HANDOFF_LOGIN_FAILURES_ADDRESS``,
        ``HANDOFF_LOGIN_WINDOW``, ``HANDOFF_LOGIN_SLOWDOWN``, ``REDIS_URL`` (several
        web workers: events and rate limits shared through Redis).
        """
        env = os.environ if env is None else env
        data_dir = Path(env.get("HANDOFF_DATA_DIR") or PROJECT_ROOT / "var")
        database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'app.db'}"
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            secret_key=env.get("HANDOFF_SECRET_KEY") or None,
            token_ttl_seconds=env_int(env, "HANDOFF_TOKEN_TTL", 12 * 3600, 60),
            reassign_after_seconds=env_int(env, "HANDOFF_REASSIGN_AFTER", 180, 10),
            agent_cap=env_int(env, "HANDOFF_AGENT_CAP", 3, 1),
            shop_file=Path(env.get("HANDOFF_SHOP_FILE") or PROJECT_ROOT / "shop.yml"),
            topics_file=Path(
                env.get("HANDOFF_TOPICS_FILE")
                or env.get("TOPICS_FILE")
                or PROJECT_ROOT / "topics.yml"
            ),
            auto_assign=env_bool(env, "HANDOFF_AUTO_ASSIGN", True),
            demo=env_bool(env, "HANDOFF_DEMO", False),
            host=env.get("HANDOFF_HOST") or "127.0.0.1",
            port=env_int(env, "HANDOFF_PORT", env_int(env, "PORT", 8000, 1), 1),
            presence_timeout_seconds=env_int(env, "HANDOFF_PRESENCE_TIMEOUT", 90, 10),
            idle_away_seconds=env_int(env, "HANDOFF_IDLE_AWAY", 300, 10),
            login_failures_per_login=env_int(env, "HANDOFF_LOGIN_FAILURES", 10, 1),
            login_failures_per_address=env_int(env, "HANDOFF_LOGIN_FAILURES_ADDRESS", 50, 1),
            login_window_seconds=env_int(env, "HANDOFF_LOGIN_WINDOW", 900, 1),
            login_slowdown_seconds=env_seconds(env, "HANDOFF_LOGIN_SLOWDOWN", 1.0),
            redis_url=env.get("REDIS_URL") or None,
        )

    def with_secret(self) -> Settings:
        """Return settings with a secret key, generating one into ``data_dir`` if unset.

        The generated key is kept in ``<data_dir>/handoff_secret`` (mode 0600) so tokens
        survive a restart; it is never a constant in the source.
        """
        if self.secret_key:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "handoff_secret"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        key = path.read_text().strip()
        if len(key) < 32:
            raise ValueError(f"{path} holds a secret shorter than 32 characters")
        return replace(self, secret_key=key)
