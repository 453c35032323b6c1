"""bot/tokens.py: customer tokens name one conversation and expire."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import tokens

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.timezone.utc)
SECRET = "s" * 48


def test_a_token_names_its_conversation():
    token = tokens.issue("conv-1", SECRET, 600, NOW)
    assert tokens.conversation_of(token, SECRET, NOW) == "conv-1"
    tokens.check(token, "conv-1", SECRET, NOW)


def test_expired_forged_and_foreign_tokens_fail():
    token = tokens.issue("conv-1", SECRET, 600, NOW)
    with pytest.raises(tokens.TokenError, match="expired"):
        tokens.conversation_of(token, SECRET, NOW + dt.timedelta(seconds=601))
    with pytest.raises(tokens.TokenError, match="invalid"):
        tokens.conversation_of(token, "t" * 48, NOW)
    with pytest.raises(tokens.WrongConversation) as wrong:
        tokens.check(token, "conv-2", SECRET, NOW)
    assert wrong.value.status == 403
    with pytest.raises(tokens.TokenError):
        tokens.conversation_of(None, SECRET, NOW)


def test_customer_and_desk_keys_differ():
    assert tokens.derive_secret("desk-secret") != "desk-secret"
    assert tokens.derive_secret("a") != tokens.derive_secret("b")
