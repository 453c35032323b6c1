"""The one JWT module: signed, expiring tokens (HS256) that name who may use them.

Every token carries an audience (``aud``) and a type (``typ``): a customer's conversation
token and an agent's session token can never pass for each other, even when both are
signed with the same key.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import jwt

from .errors import ApiError

ALGORITHM = "HS256"


class Audience(str, enum.Enum):
    """Who a token is for; the value is the ``aud`` claim, the name (lower) the ``typ``."""

    CUSTOMER = "customer-chat"
    AGENT = "agent-desk"

    @property
    def type(self) -> str:
        """The ``typ`` claim of this audience's tokens."""
        return self.name.lower()


class TokenError(ApiError):
    """The token is missing, malformed, forged, expired or for someone else (401)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(status, message)


def issue(
    audience: Audience,
    subject: str,
    secret: str,
    ttl_seconds: int,
    now: dt.datetime,
    **claims: Any,
) -> str:
    """Sign a token for ``subject`` and ``audience``, valid ``ttl_seconds`` from ``now``."""
    issued = int(now.timestamp())
    payload = {
        **claims,
        "sub": subject,
        "aud": audience.value,
        "typ": audience.type,
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def read(
    token: str,
    audience: Audience,
    secret: str,
    *,
    expired: str,
    invalid: str,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The claims of a valid, unexpired token for ``audience``, or :class:`TokenError`
    with ``expired`` or ``invalid`` as its message. ``now`` replaces the clock (tests)."""
    options: Any = {"require": ["sub", "exp"], "verify_aud": False}  # PyJWT's Options
    if now is not None:
        options.update(verify_exp=False, verify_iat=False)
    try:
        claims: dict[str, Any] = jwt.decode(token, secret, algorithms=[ALGORITHM], options=options)
    except jwt.ExpiredSignatureError:
        raise TokenError(expired) from None
    except jwt.PyJWTError:
        raise TokenError(invalid) from None
    if now is not None and claims["exp"] <= now.timestamp():
        raise TokenError(expired)
    if not _for(claims, audience) or not isinstance(claims.get("sub"), str):
        raise TokenError(invalid)
    return claims


def _for(claims: dict[str, Any], audience: Audience) -> bool:
    """True when the token names ``audience``. Tokens issued before both claims existed
    carry one of them (customers ``aud``, agents ``typ``): one must match, the other be
    absent, so sessions open at an upgrade survive and still cannot cross over."""
    aud, typ = claims.get("aud"), claims.get("typ")
    if aud is None and typ is None:
        return False
    return aud in (None, audience.value) and typ in (None, audience.type)
