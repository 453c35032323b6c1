"""The agent command line, the settings object and password/token helpers."""

import datetime as dt
import io
import os
import stat

import pytest

from handoff import cli
from handoff.auth import TokenError, hash_password, issue_token, read_token, verify_password
from handoff.settings import Settings


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("HANDOFF_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)

    def run(*argv, stdin=""):
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return cli.main(list(argv))

    return run


def test_cli_adds_lists_resets_and_disables_agents(cli_env, capsys):
    assert (
        cli_env(
            "add", "alice", "--name", "Alice Smith", "--password-stdin", stdin="correct horse\n"
        )
        == 0
    )
    assert "added agent alice (Alice Smith), cap 3" in capsys.readouterr().out
    assert (
        cli_env(
            "add",
            "bob",
            "--name",
            "Bob",
            "--max-chats",
            "5",
            "--password-stdin",
            stdin="battery staple\n",
        )
        == 0
    )
    capsys.readouterr()
    assert cli_env("list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["alice", "bob"]
    assert "0/5" in lines[1] and "away" in lines[1]
    assert cli_env("reset-password", "alice", "--password-stdin", stdin="new password!\n") == 0
    assert cli_env("disable", "bob") == 0
    capsys.readouterr()
    cli_env("list")
    assert "disabled" in capsys.readouterr().out.splitlines()[1]


@pytest.mark.parametrize(
    "argv, stdin, message",
    [
        (
            ("add", "alice", "--name", "A", "--password-stdin"),
            "short\n",
            "error: password must have at least 8 characters",
        ),
        (
            ("add", "alice", "--name", "A", "--password-stdin"),
            "",
            "error: no password on standard input",
        ),
        (
            ("add", "Not Valid", "--name", "A", "--password-stdin"),
            "long enough\n",
            "error: login must be",
        ),
        (("disable", "ghost"), "", "error: no such agent"),
        (("reset-password", "ghost", "--password-stdin"), "long enough\n", "error: no such agent"),
        (("add", "alice", "--name", "A"), "", "error: no terminal to prompt for a password"),
    ],
)
def test_cli_errors_are_clear(cli_env, capsys, argv, stdin, message):
    assert cli_env(*argv, stdin=stdin) == 1
    assert message in capsys.readouterr().err


def test_cli_refuses_duplicate_logins(cli_env, capsys):
    assert cli_env("add", "alice", "--name", "A", "--password-stdin", stdin="long enough\n") == 0
    assert cli_env("add", "alice", "--name", "B", "--password-stdin", stdin="long enough\n") == 1
    assert "already exists" in capsys.readouterr().err


def test_settings_defaults_are_local_and_safe(tmp_path):
    settings = Settings.from_env({"HANDOFF_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'app.db'}"
    assert (settings.agent_cap, settings.host, settings.port, settings.demo) == (
        3,
        "127.0.0.1",
        8000,
        False,
    )
    assert settings.secret_key is None
    assert Settings.from_env({"PORT": "9001"}).port == 9001
    with pytest.raises(ValueError, match="HANDOFF_AGENT_CAP must be an integer"):
        Settings.from_env({"HANDOFF_AGENT_CAP": "lots"})
    with pytest.raises(ValueError, match="at least 1"):
        Settings.from_env({"HANDOFF_AGENT_CAP": "0"})


def test_generated_secret_is_private_and_stable(tmp_path):
    settings = Settings.from_env({"HANDOFF_DATA_DIR": str(tmp_path / "var")})
    first = settings.with_secret()
    second = settings.with_secret()
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 32
    mode = stat.S_IMODE(os.stat(tmp_path / "var" / "handoff_secret").st_mode)
    assert mode == 0o600
    configured = Settings.from_env(
        {"HANDOFF_SECRET_KEY": "k" * 40, "HANDOFF_DATA_DIR": str(tmp_path / "x")}
    )
    assert configured.with_secret().secret_key == "k" * 40
    assert not (tmp_path / "x").exists()


def test_passwords_are_salted_scrypt_hashes():
    one, two = hash_password("correct horse"), hash_password("correct horse")
    assert one != two and one.startswith("scrypt$")
    assert verify_password("correct horse", one)
    assert not verify_password("correct horsE", one)
    assert not verify_password("x", "garbage")


def test_tokens_expire_and_resist_tampering():
    now = dt.datetime.now(dt.timezone.utc)
    token = issue_token(7, "s" * 40, 60, now)
    assert read_token(token, "s" * 40) == 7
    with pytest.raises(TokenError, match="invalid"):
        read_token(token, "t" * 40)
    with pytest.raises(TokenError, match="expired"):
        read_token(issue_token(7, "s" * 40, 60, now - dt.timedelta(hours=1)), "s" * 40)
