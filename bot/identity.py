"""Signed customer identity: the shop vouches for its logged-in customer.

The shop's server signs ``id``, ``email``, ``name`` and a Unix ``timestamp`` with
HMAC-SHA256 and the secret it shares with the chat server (``WIDGET_IDENTITY_SECRET``);
the page passes the four values and the hex signature to the widget, which sends them
when a chat starts. :func:`verify` accepts only a matching, fresh signature: anything
else (no secret set, a forged or stale signature, values changed after signing) gives no
identity, and the chat goes on anonymous. The signed text is the four values joined by
newlines, so no value may hold one.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

MAX_ID_CHARS = 128
MAX_NAME_CHARS = 100
MAX_EMAIL_CHARS = 254
# The shop's clock and ours may differ a little: a signature "from the future" is
# accepted this far ahead.
CLOCK_SKEW_SECONDS = 300
_FIELDS = {"id": MAX_ID_CHARS, "name": MAX_NAME_CHARS, "email": MAX_EMAIL_CHARS}


@dataclass(frozen=True)
class Identity:
    """A customer the shop signed for."""

    external_id: str
    name: str | None
    email: str | None


@dataclass(frozen=True)
class Verdict:
    """The identity when the signature holds, else None and why (for the shop's
    developers: the answer tells them, the chat stays anonymous)."""

    identity: Identity | None
    problem: str | None = None


def signed_text(customer_id: str, email: str, name: str, timestamp: int) -> bytes:
    """The bytes the shop signs: ``id``, ``email``, ``name``, ``timestamp`` on four lines."""
    return f"{customer_id}\n{email}\n{name}\n{timestamp}".encode()


def sign(secret: str, customer_id: str, email: str, name: str, timestamp: int) -> str:
    """The hex HMAC-SHA256 signature a shop computes (what the README shows)."""
    message = signed_text(customer_id, email, name, timestamp)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _refused(problem: str) -> Verdict:
    return Verdict(None, problem)


def verify(raw: Any, secret: str | None, now: float, max_age_seconds: int) -> Verdict:
    """Check the ``customer`` object a widget sent (``id``, ``name``, ``email``,
    ``timestamp``, ``signature``) against ``secret`` at time ``now`` (Unix seconds)."""
    if raw is None:
        return _refused("no identity given")
    if secret is None:
        return _refused("this chat server accepts no customer identity")
    if not isinstance(raw, dict):
        return _refused("customer must be an object")
    values: dict[str, str] = {}
    for key, limit in _FIELDS.items():
        value = raw.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str) or len(value) > limit or "\n" in value or "\r" in value:
            return _refused(f"customer {key} must be one line of at most {limit} characters")
        values[key] = value
    if not values["id"].strip():
        return _refused("customer id is missing")
    timestamp, signature = raw.get("timestamp"), raw.get("signature")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        return _refused("customer timestamp must be a whole number of seconds")
    if not isinstance(signature, str) or len(signature) != 64:
        return _refused("customer signature must be 64 hexadecimal characters")
    expected = sign(secret, values["id"], values["email"], values["name"], timestamp)
    if not hmac.compare_digest(expected, signature.lower()):
        return _refused("the customer signature does not match")
    # Checked after the signature, so a forger learns nothing about our clock.
    if timestamp > now + CLOCK_SKEW_SECONDS:
        return _refused("the customer signature is dated in the future")
    if timestamp < now - max_age_seconds:
        return _refused("the customer signature has expired: sign again when the page loads")
    identity = Identity(
        values["id"], values["name"].strip() or None, values["email"].strip() or None
    )
    return Verdict(identity)
