"""Pure pieces of the customer side: router, tokens, rate limiter, settings, frames."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot import tokens
from bot.frames import event_frame, message_view
from bot.mailer import build_email, valid_address
from bot.router import (
    NEUTRALISER,
    Action,
    author_label,
    handoff_reason,
    queued_notice,
    rasa_safe_text,
    read_replies,
    route_customer_message,
    split_long,
)
from bot.settings import BotSettings
from handoff.ratelimit import RateLimiter

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.timezone.utc)
SECRET = "s" * 48


# --- router ---------------------------------------------------------------------------
@pytest.mark.parametrize("state", ["queued", "assigned"])
def test_a_person_handles_the_chat_so_the_bot_is_not_asked(state):
    route = route_customer_message(state, "hello")
    assert route.action is Action.TO_AGENT and route.rasa_text is None


def test_in_state_bot_the_bot_is_asked_with_safe_text():
    assert route_customer_message("bot", "How do returns work?").action is Action.ASK_BOT
    assert route_customer_message("bot", "/restart").rasa_text == NEUTRALISER + "/restart"


@pytest.mark.parametrize("state", ["closed", "nonsense"])
def test_closed_or_unknown_states_refuse(state):
    route = route_customer_message(state, "hello")
    assert route.action is Action.REFUSE and "closed" in route.reason


@pytest.mark.parametrize("typed", ["/restart", "  /restart", '\n/faq{"a":1}', "/"])
def test_no_typed_text_reaches_rasa_as_an_intent_command(typed):
    safe = rasa_safe_text(typed)
    # Rasa's RegexMessageHandler looks at text.strip().startswith("/").
    assert not safe.strip().startswith("/")
    assert safe.strip(NEUTRALISER) == typed.strip()


def test_plain_text_is_unchanged():
    assert rasa_safe_text("price 1/2 off?") == "price 1/2 off?"


def test_replies_split_into_visible_messages_and_the_handoff_request():
    turn = read_replies(
        [
            {"recipient_id": "c", "text": "Bringing in a person."},
            {"recipient_id": "c", "custom": {"handoff": {"reason": "frustration", "summary": "s"}}},
            {
                "recipient_id": "c",
                "text": "Which one?",
                "buttons": [{"title": "Returns", "payload": "How do returns work?"}, {"bad": 1}],
            },
        ]
    )
    assert [m.text for m in turn.messages] == ["Bringing in a person.", "Which one?"]
    assert turn.messages[1].buttons == [{"title": "Returns", "payload": "How do returns work?"}]
    assert turn.handoff == {"reason": "frustration", "summary": "s"}


def test_replies_without_handoff_have_none():
    assert read_replies([{"text": "hi"}, "junk", {"custom": {"other": 1}}]).handoff is None


def test_unknown_handoff_reasons_fall_back_to_customer_request():
    assert handoff_reason({"reason": "frustration"}) == "frustration"
    assert handoff_reason({"reason": "rm -rf"}) == "customer_request"
    assert handoff_reason({}) == "customer_request"


def test_every_author_has_an_honest_label():
    assert author_label("bot") == "Assistant (bot)"
    assert author_label("customer") == "You"
    assert author_label("agent", "Alice Moreno") == "Alice Moreno"
    assert author_label("agent") == "Support team"


def test_queue_notice_says_position_and_wait():
    notice = queued_notice(3, 540)
    assert "number 3 in line" in notice and "about 9 minutes" in notice
    assert "next in line" in queued_notice(1, None)


def test_long_bot_texts_split_without_losing_words():
    text = " ".join(f"word{i}" for i in range(800))
    parts = split_long(text, 2000)
    assert all(len(p) <= 2000 for p in parts) and " ".join(parts) == text
    assert split_long("x" * 4500, 2000) == ["x" * 2000, "x" * 2000, "x" * 500]


# --- tokens ---------------------------------------------------------------------------
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


# --- rate limiter ---------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_rate_limiter_allows_the_limit_then_says_how_long_to_wait():
    clock = Clock()
    limiter = RateLimiter(2, 60, clock)
    assert limiter.hit("a") is None
    clock.now += 10
    assert limiter.hit("a") is None
    assert limiter.hit("a") == 50
    assert limiter.hit("b") is None  # keys are independent
    clock.now += 50
    assert limiter.hit("a") is None  # the first hit left the window


def test_refused_hits_do_not_extend_the_wait():
    clock = Clock()
    limiter = RateLimiter(1, 60, clock)
    limiter.hit("a")
    for _ in range(5):
        limiter.hit("a")
    clock.now += 60
    assert limiter.hit("a") is None


# --- settings -------------------------------------------------------------------------
def test_settings_defaults_are_local_and_safe(tmp_path: Path):
    settings = BotSettings.from_env({"RASA_TOKEN_FILE": str(tmp_path / "none")})
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.rasa_token is None and settings.port == 8000
    assert settings.max_message_chars == 2000
    assert settings.transcript_email_enabled is False


def test_settings_read_the_token_file_and_variables(tmp_path: Path):
    (tmp_path / "rasa-token").write_text("from-file\n")
    settings = BotSettings.from_env(
        {
            "RASA_TOKEN_FILE": str(tmp_path / "rasa-token"),
            "RASA_URL": "http://rasa:5005/",
            "PORT": "9000",
            "SMTP_HOST": "mail",
            "SMTP_PORT": "2525",
            "BOT_RATE_CONVERSATION": "5",
        }
    )
    assert (settings.rasa_token, settings.rasa_url, settings.port) == (
        "from-file",
        "http://rasa:5005",
        9000,
    )
    assert settings.transcript_email_enabled and settings.smtp_port == 2525
    assert settings.conversation_messages_per_minute == 5
    assert (
        BotSettings.from_env(
            {"RASA_TOKEN": "env", "RASA_TOKEN_FILE": str(tmp_path / "rasa-token")}
        ).rasa_token
        == "env"
    )


@pytest.mark.parametrize(
    "env", [{"PORT": "eighty"}, {"BOT_RATE_ADDRESS": "0"}, {"BOT_SECRET_KEY": "short"}]
)
def test_bad_settings_say_what_is_wrong(env):
    with pytest.raises(ValueError):
        BotSettings.from_env(env)


def test_rasa_admission_settings(tmp_path: Path):
    none = str(tmp_path / "none")
    defaults = BotSettings.from_env({"RASA_TOKEN_FILE": none})
    assert (defaults.rasa_max_in_flight, defaults.rasa_queue_seconds) == (8, 10.0)
    settings = BotSettings.from_env(
        {"RASA_TOKEN_FILE": none, "BOT_RASA_MAX_IN_FLIGHT": "3", "BOT_RASA_QUEUE_SECONDS": "2.5"}
    )
    assert (settings.rasa_max_in_flight, settings.rasa_queue_seconds) == (3, 2.5)
    assert BotSettings.from_env({"BOT_RASA_QUEUE_SECONDS": "0"}).rasa_queue_seconds == 0


@pytest.mark.parametrize(
    "name,value",
    [
        ("BOT_RASA_MAX_IN_FLIGHT", "0"),
        ("BOT_RASA_MAX_IN_FLIGHT", "many"),
        ("BOT_RASA_QUEUE_SECONDS", "soon"),
        ("BOT_RASA_QUEUE_SECONDS", "-1"),
        ("BOT_RASA_QUEUE_SECONDS", "inf"),
    ],
)
def test_bad_rasa_admission_settings_name_the_variable(name, value):
    with pytest.raises(ValueError, match=name):
        BotSettings.from_env({name: value})


# --- frames and mail ------------------------------------------------------------------
def test_message_view_hides_desk_fields():
    view = message_view(
        {
            "id": 3,
            "author": "agent",
            "agent_id": 7,
            "agent_name": "Alice",
            "text": "<b>hi</b>",
            "buttons": None,
            "created_at": "t",
            "conversation_state": "assigned",
        }
    )
    assert view == {
        "id": 3,
        "author": "agent",
        "author_label": "Alice",
        "text": "<b>hi</b>",
        "buttons": [],
        "created_at": "t",
    }


def test_event_frames():
    joined = event_frame("conversation.assigned", {"agent_id": 1, "agent_name": "Al"})
    assert joined == {"type": "agent_joined", "agent_name": "Al", "state": "assigned"}
    assert event_frame("conversation.assigned", {"agent_id": None}) is None
    assert event_frame("conversation.returned_to_bot", {"by": "agent"})["type"] == "bot_back"
    assert event_frame("conversation.closed", {})["type"] == "closed"
    offline = event_frame("ticket.created", {"ticket": {"id": 1, "contact": None}})
    assert offline == {"type": "offline", "ticket_id": 1}
    assert event_frame("ticket.created", {"ticket": {"id": 1, "contact": "a@b.c"}}) is None


@pytest.mark.parametrize(
    "address,ok",
    [
        ("sam@example.com", True),
        ("a@b", False),
        ("a@b.c\r\nBcc: x@y.z", False),
        ("x" * 250 + "@a.bc", False),
        ("Sam <sam@example.com>", False),
        (None, False),
    ],
)
def test_transcript_addresses_are_single_plain_addresses(address, ok):
    assert valid_address(address) is ok


def test_transcript_mail_is_plain_text():
    email = build_email("sam@example.com", "Shop <help@shop.example>", "Shop", "<b>hi</b>")
    assert email.get_content_type() == "text/plain"
    assert "<b>hi</b>" in email.get_content()
