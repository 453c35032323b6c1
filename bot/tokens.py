"""Customer tokens: a signed, expiring proof that a browser started a conversation.

The token names one conversation (``sub``) and is signed with HS256; the conversation
id itself is the service's unguessable id. A token is checked on every request and on
the websocket's first frame.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Optional

import jwt

AUDIENCE = "customer-chat"
ALGORITHM = "HS256"


class TokenError(Exception):
    """The token is missing, forged, expired or for another conversation."""

    status = 401


class WrongConversation(TokenError):
    """A valid token, but for a different conversation."""

    status = 403


def derive_secret(base_secret: str) -> str:
    """A customer-token key derived from the desk's secret (domain-separated, so an
    agent token can never pass as a customer token or the other way round)."""
    return hmac.new(base_secret.encode(), b"customer-chat-token", hashlib.sha256).hexdigest()


def issue(conversation_id: str, secret: str, ttl_seconds: int, now: dt.datetime) -> str:
    """Sign a token for ``conversation_id`` valid for ``ttl_seconds`` from ``now``."""
    claims = {
        "sub": conversation_id,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def conversation_of(token: Optional[str], secret: str, now: Optional[dt.datetime] = None) -> str:
    """The conversation id a token was issued for; :class:`TokenError` if invalid."""
    if not token:
        raise TokenError("this needs the conversation's token (Authorization: Bearer ...)")
    options = {"require": ["sub", "exp", "aud"]}
    try:
        if now is None:
            claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                                options=options)
        else:
            claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                                options={**options, "verify_exp": False, "verify_iat": False})
            if claims["exp"] <= now.timestamp():
                raise jwt.ExpiredSignatureError()
    except jwt.ExpiredSignatureError:
        raise TokenError("the conversation token has expired: start a new chat") from None
    except jwt.InvalidTokenError:
        raise TokenError("invalid conversation token") from None
    if not isinstance(claims.get("sub"), str):
        raise TokenError("invalid conversation token")
    return claims["sub"]


def check(token: Optional[str], conversation_id: str, secret: str,
          now: Optional[dt.datetime] = None) -> None:
    """Raise unless ``token`` is valid and was issued for ``conversation_id``."""
    if conversation_of(token, secret, now) != conversation_id:
        raise WrongConversation("this token belongs to another conversation")
