"""tools/stack/runner.py's pieces for `make run`: the web app service and the tracker store."""

from __future__ import annotations

from pathlib import Path

import yaml

from tools.stack.runner import tracker_store_yaml, web_env, web_service, write_endpoints


def test_sqlite_is_the_default_tracker_store(tmp_path: Path):
    path = write_endpoints(5055, path=tmp_path / "endpoints.yml")
    config = yaml.safe_load(path.read_text())
    assert config["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"
    assert config["tracker_store"] == {
        "type": "SQL",
        "dialect": "sqlite",
        "db": str(tmp_path / "tracker.db"),
    }


def test_database_url_moves_the_tracker_store_to_postgresql():
    config = yaml.safe_load(
        tracker_store_yaml(
            "postgresql+asyncpg://shop:s%40cret@db.internal:6543/larkspur", Path("unused.db")
        )
    )
    assert config["tracker_store"] == {
        "type": "SQL",
        "dialect": "postgresql",
        "url": "db.internal",
        "port": 6543,
        "db": "larkspur",
        "username": "shop",
        "password": "s@cret",
    }
    assert "sqlite" in tracker_store_yaml("sqlite:///var/app.db", Path("t.db"))


def test_the_web_app_runs_in_demo_mode_with_rasas_token():
    env = web_env({"PATH": "/bin"}, 5005, "tok", demo=True)
    assert env["RASA_URL"] == "http://127.0.0.1:5005" and env["RASA_TOKEN"] == "tok"
    assert env["HANDOFF_DEMO"] == "1" and env["PATH"] == "/bin"
    assert "HANDOFF_DEMO" not in web_env({}, 5005, "tok", demo=False)
    service = web_service(8123)
    assert service.command[-3:] == ["bot", "--port", "8123"]
    assert service.health_url == "http://127.0.0.1:8123/widget.js"


def test_sandbox_env_is_open_around_the_clock_with_its_own_database(tmp_path):
    import datetime as dt

    from handoff.hours import load_hours
    from tools.stack.runner import sandbox_web_env

    env = sandbox_web_env({}, tmp_path, 5005, "tok")
    assert env["DATABASE_URL"] == f"sqlite:///{tmp_path / 'app.db'}"
    assert env["HANDOFF_AUTO_ASSIGN"] == "0" and env["HANDOFF_DEMO"] == "1"
    hours = load_hours(env["HANDOFF_SHOP_FILE"])
    for hour in (0, 9, 23):
        assert hours.is_open(dt.datetime(2026, 11, 29, hour, 59, tzinfo=dt.timezone.utc))
