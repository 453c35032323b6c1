"""Customer tokens: a signed, expiring proof that a browser started a conversation.

The token names one conversation (``sub``) for the customer audience (see
``handoff.web.tokens``, which also signs the desk's tokens); the conversation id itself is
the service's unguessable id. A token is checked on every request and on the websocket's
first frame.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from handoff.web import tokens
from handoff.web.tokens import Audience, TokenError

__all__ = ["TokenError", "WrongConversation", "check", "conversation_of", "derive_secret", "issue"]


class WrongConversation(TokenError):
    """A valid token, but for a different conversation (403)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=403)


def derive_secret(base_secret: str) -> str:
    """A customer-token key derived from the desk's secret (domain-separated: a second
    wall besides the audience claim between agent and customer tokens)."""
    return hmac.new(base_secret.encode(), b"customer-chat-token", hashlib.sha256).hexdigest()


def issue(conversation_id: str, secret: str, ttl_seconds: int, now: dt.datetime) -> str:
    """Sign a token for ``conversation_id`` valid for ``ttl_seconds`` from ``now``."""
    return tokens.issue(Audience.CUSTOMER, conversation_id, secret, ttl_seconds, now)


def conversation_of(token: str | None, secret: str, now: dt.datetime | None = None) -> str:
    """The conversation id a token was issued for; :class:`TokenError` if invalid."""
    if not token:
        raise TokenError("this needs the conversation's token (Authorization: Bearer ...)")
    claims = tokens.read(
        token,
        Audience.CUSTOMER,
        secret,
        now=now,
        expired="the conversation token has expired: start a new chat",
        invalid="invalid conversation token",
    )
    return str(claims["sub"])


def check(
    token: str | None, conversation_id: str, secret: str, now: dt.datetime | None = None
) -> None:
    """Raise unless ``token`` is valid and was issued for ``conversation_id``."""
    if conversation_of(token, secret, now) != conversation_id:
        raise WrongConversation("this token belongs to another conversation")
