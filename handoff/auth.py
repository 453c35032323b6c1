"""Agent passwords (scrypt) and signed, expiring session tokens (``handoff.web.tokens``)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

from .web import tokens
from .web.tokens import Audience, TokenError

__all__ = [
    "TokenError",
    "hash_password",
    "issue_token",
    "read_session_token",
    "read_token",
    "verify_password",
]

# scrypt cost: n=2**14, r=8 is the commonly recommended interactive-login setting.
_N, _R, _P, _DKLEN = 2**14, 8, 1, 32
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """Hash ``password`` with scrypt and a fresh random salt (self-describing string)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN)
    encode = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; constant-time comparison."""
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(digest_b64)
        digest = hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt,
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


def issue_token(
    agent_id: int,
    secret: str,
    ttl_seconds: int,
    now: dt.datetime,
    session_id: str | None = None,
) -> str:
    """A signed token naming the agent (and its session), valid for ``ttl_seconds``.

    The desk accepts only tokens that name a live session (see ``SessionService``).
    """
    claims = {} if session_id is None else {"sid": session_id}
    return tokens.issue(Audience.AGENT, str(agent_id), secret, ttl_seconds, now, **claims)


def read_token(token: str, secret: str) -> int:
    """Return the agent id of a valid token, or raise :class:`TokenError`."""
    return read_session_token(token, secret)[0]


def read_session_token(token: str, secret: str) -> tuple[int, str | None]:
    """``(agent id, session id or None)`` of a validly signed, unexpired agent token, or
    raise :class:`TokenError`."""
    claims = tokens.read(
        token,
        Audience.AGENT,
        secret,
        expired="session expired, please log in again",
        invalid="invalid session token",
    )
    session_id = claims.get("sid")
    if session_id is not None and not isinstance(session_id, str):
        raise TokenError("invalid session token")
    try:
        return int(claims["sub"]), session_id
    except (TypeError, ValueError):
        raise TokenError("invalid session token") from None
