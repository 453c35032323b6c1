"""Agent passwords (scrypt) and signed, expiring session tokens (JWT HS256)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any, Dict, Optional, Tuple

import jwt

# scrypt cost: n=2**14, r=8 is the commonly recommended interactive-login setting.
_N, _R, _P, _DKLEN = 2**14, 8, 1, 32
_ALGORITHM = "HS256"
MIN_PASSWORD_LENGTH = 8


class TokenError(Exception):
    """The session token is missing, malformed, forged or expired."""


def hash_password(password: str) -> str:
    """Hash ``password`` with scrypt and a fresh random salt (self-describing string)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN
    )
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
    session_id: Optional[str] = None,
) -> str:
    """A signed token naming the agent (and its session), valid for ``ttl_seconds``.

    The desk accepts only tokens that name a live session (see ``SessionsMixin``).
    """
    payload = {
        "sub": str(agent_id),
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + ttl_seconds,
        "typ": "agent",
    }
    if session_id is not None:
        payload["sid"] = session_id
    return jwt.encode(payload, secret, algorithm=_ALGORITHM)


def read_token(token: str, secret: str) -> int:
    """Return the agent id of a valid token, or raise :class:`TokenError`."""
    return read_session_token(token, secret)[0]


def read_session_token(token: str, secret: str) -> Tuple[int, Optional[str]]:
    """``(agent id, session id or None)`` of a validly signed, unexpired token, or
    raise :class:`TokenError`."""
    try:
        payload: Dict[str, Any] = jwt.decode(
            token, secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub"]}
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("session expired, please log in again") from None
    except jwt.PyJWTError:
        raise TokenError("invalid session token") from None
    if payload.get("typ") != "agent":
        raise TokenError("invalid session token")
    session_id = payload.get("sid")
    if session_id is not None and not isinstance(session_id, str):
        raise TokenError("invalid session token")
    try:
        return int(payload["sub"]), session_id
    except (TypeError, ValueError):
        raise TokenError("invalid session token") from None
