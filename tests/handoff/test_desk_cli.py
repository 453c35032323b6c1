"""The command line makes the first admin (roles are otherwise managed in the desk)."""

import io

import pytest

from handoff import cli

PASSWORD = "correct horse"


def test_cli_makes_admins_and_refuses_to_demote_the_last_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HANDOFF_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)

    def run(*argv, stdin=""):
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return cli.main(list(argv))

    assert run("add", "root", "--name", "Root", "--admin", "--password-stdin", stdin=PASSWORD) == 0
    assert "added admin root (Root), cap 3" in capsys.readouterr().out
    assert run("add", "ann", "--name", "Ann", "--password-stdin", stdin=PASSWORD) == 0
    assert run("set-role", "ann", "admin") == 0
    assert "ann is now admin" in capsys.readouterr().out
    assert run("set-role", "ann", "agent") == 0
    assert run("set-role", "root", "agent") == 1  # root is the last admin now
    assert "last active admin" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse names the two roles
        run("set-role", "root", "owner")
    assert "choose from 'admin', 'agent'" in capsys.readouterr().err
    run("list")
    lines = capsys.readouterr().out.splitlines()
    assert [(line.split()[0], line.split()[2]) for line in lines] == [
        ("ann", "agent"),
        ("root", "admin"),
    ]
