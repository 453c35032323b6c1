"""The shared web kit (handoff/web): one JWT module whose tokens cannot cross audiences,
tokens signed before the audience claims existed, one error shape."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest

from bot import tokens as customer_tokens
from handoff.auth import TokenError, issue_token, read_session_token
from handoff.web.errors import ApiError, PublicError
from handoff.web.tokens import Audience

SECRET = "k" * 48
NOW = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc)


def test_a_customer_token_never_passes_as_an_agent_session():
    # Same key on purpose: the audience alone must keep them apart.
    customer = customer_tokens.issue("7", SECRET, 600, dt.datetime.now(dt.timezone.utc))
    with pytest.raises(TokenError, match="invalid session token"):
        read_session_token(customer, SECRET)


def test_an_agent_session_never_passes_as_a_customer_token():
    agent = issue_token(7, SECRET, 600, dt.datetime.now(dt.timezone.utc), session_id="s1")
    with pytest.raises(TokenError, match="invalid conversation token"):
        customer_tokens.check(agent, "7", SECRET)
    assert read_session_token(agent, SECRET) == (7, "s1")


def test_tokens_carry_both_audience_and_type():
    agent = jwt.decode(issue_token(3, SECRET, 60, NOW), options={"verify_signature": False})
    customer = jwt.decode(
        customer_tokens.issue("c", SECRET, 60, NOW), options={"verify_signature": False}
    )
    assert (agent["aud"], agent["typ"]) == (Audience.AGENT.value, "agent")
    assert (customer["aud"], customer["typ"]) == (Audience.CUSTOMER.value, "customer")


def _legacy(claims):
    now = int(dt.datetime.now(dt.timezone.utc).timestamp())
    return jwt.encode({"iat": now, "exp": now + 600, **claims}, SECRET, algorithm="HS256")


def test_tokens_signed_before_the_upgrade_keep_working_on_their_own_side_only():
    old_agent = _legacy({"sub": "4", "typ": "agent", "sid": "s"})  # no "aud"
    old_customer = _legacy({"sub": "conv-9", "aud": "customer-chat"})  # no "typ"
    assert read_session_token(old_agent, SECRET) == (4, "s")
    customer_tokens.check(old_customer, "conv-9", SECRET)
    with pytest.raises(TokenError):
        customer_tokens.check(old_agent, "4", SECRET)
    with pytest.raises(TokenError):
        read_session_token(old_customer, SECRET)


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "4"},  # neither claim
        {"sub": "4", "typ": "agent", "aud": "customer-chat"},  # mixed
        {"sub": "4", "typ": "customer", "aud": "agent-desk"},
        {"sub": "4", "typ": "agent", "aud": ["agent-desk", "customer-chat"]},
    ],
)
def test_tokens_naming_no_side_or_both_sides_are_refused(claims):
    with pytest.raises(TokenError):
        read_session_token(_legacy(claims), SECRET)
    with pytest.raises(TokenError):
        customer_tokens.check(_legacy({**claims, "sub": "c"}), "c", SECRET)


def test_token_errors_are_public_errors_with_a_status():
    assert issubclass(TokenError, ApiError) and issubclass(ApiError, PublicError)
    with pytest.raises(TokenError) as wrong:
        customer_tokens.check(customer_tokens.issue("a", SECRET, 60, NOW), "b", SECRET, NOW)
    assert wrong.value.status == 403


def test_building_an_app_leaves_the_process_logging_handlers_open():
    # Sanic's own set-up (logging.config.dictConfig) closes every handler of the
    # process; absl's then closed pytest's captured stderr and the run died.
    import logging

    from handoff.web.serving import new_app

    class Recording(logging.Handler):
        closed = False

        def close(self) -> None:
            self.closed = True
            super().close()

    handler = Recording()
    logger = logging.getLogger("a_library_of_the_process")
    logger.addHandler(handler)
    try:
        new_app("web_kit_logging_test")
        assert not handler.closed
        assert handler in logger.handlers
    finally:
        logger.removeHandler(handler)
        handler.close()
