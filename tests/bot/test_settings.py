"""bot/settings.py: read once from the environment, safe defaults, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import BotSettings


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
