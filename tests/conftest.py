"""Session-wide fixtures (one trained model and one action server per test run) and the
test kinds: ``integration``, ``browser`` and ``bench`` marked here or in the module,
``unit`` (``make test-fast``) for everything else."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.helpers import ROOT

# Fixtures that start real servers (Rasa, the action server, the web app on a port,
# PostgreSQL) or need the trained model: a test using one is an integration test.
INTEGRATION_FIXTURES = {
    "trained_model",
    "action_server",
    "stack",
    "postgres_server",
    "live",
    "make_live",
    "live_desk",
    "serve_desk",
}
OTHER_KINDS = ("integration", "browser", "bench")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its kind, so ``-m unit`` runs only the fast ones."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        uses_server = INTEGRATION_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if uses_server or params.get("database_url") == "postgresql":
            item.add_marker(pytest.mark.integration)
        if not any(item.get_closest_marker(kind) for kind in OTHER_KINDS):
            item.add_marker(pytest.mark.unit)


def _train_model(folder: Path) -> Path:
    """Train a model from the project's files (about 30 s: the NLU classifier is a
    logistic regression and the policies are rules); return its path."""
    config_path = ROOT / "config.yml"
    rasa = str(Path(sys.executable).with_name("rasa"))
    started = time.monotonic()
    subprocess.run(
        [
            rasa,
            "train",
            "--config",
            str(config_path),
            "--domain",
            str(ROOT / "domain.yml"),
            "--data",
            str(ROOT / "data"),
            "--out",
            str(folder),
            "--fixed-model-name",
            "test",
            "--quiet",
        ],
        cwd=ROOT,
        check=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    print(f"\ntrained the test model in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return folder / "test.tar.gz"


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model under test: $ASSISTANT_MODEL (make test passes the one it just trained),
    or one trained here, once per test run."""
    given = os.environ.get("ASSISTANT_MODEL")
    if given:
        path = Path(given)
        if not path.exists():
            pytest.fail(f"ASSISTANT_MODEL={given} does not exist")
        return path
    return _train_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="session")
def web_app_port() -> int:
    """The port the end-to-end stack's web app will listen on, known before it starts:
    the action server asks it for the support hours (``WEB_APP_URL``)."""
    from tools.stack.runner import free_port

    return free_port()


@pytest.fixture(scope="session")
def action_server(tmp_path_factory: pytest.TempPathFactory, web_app_port: int) -> Iterator[str]:
    """The real action server on a free port; yields its webhook URL. It asks the web app
    on ``web_app_port`` for the support hours (shop.yml's while none listens there)."""
    from tools.stack.runner import action_service, free_port

    port = free_port()
    service = action_service(port)
    service.log_path = tmp_path_factory.mktemp("logs") / "actions.log"
    service.start({**os.environ, "WEB_APP_URL": f"http://127.0.0.1:{web_app_port}"})
    deadline = time.monotonic() + 120
    while not service.healthy():
        if service.exit_code() is not None or time.monotonic() > deadline:
            service.stop()
            pytest.fail(f"action server did not start:\n{service.log_tail()}")
        time.sleep(0.2)
    yield f"http://127.0.0.1:{port}/webhook"
    service.stop()
