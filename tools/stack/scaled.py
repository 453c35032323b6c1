"""Several web workers and Rasa servers on Redis + PostgreSQL: `make run-scaled`.

`python -m tools.stack.scaled` starts, on 127.0.0.1: Redis, a PostgreSQL cluster under
``var/scaled/pg`` (kept between runs; ``make clean`` removes it), one action server,
two Rasa servers (one SQL tracker store, the project's atomic Redis lock store, so a
conversation's simultaneous messages take turns) and two web workers
(``REDIS_URL`` for their events and rate limits, ``RASA_URLS`` naming both Rasa
servers). The supervisor of `make run` keeps them running. It prints both workers'
URLs: a customer on one and an agent on the other see each other live. In production a
load balancer sits in front of the workers (see the README's deployment section).

The first Rasa server and the first web worker start alone: each creates its tables
(Rasa's tracker tables, the desk's migrations), which two at once would race on.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tools.stack.local_services import PostgresCluster, redis_service
from tools.stack.runner import (
    LOGS,
    MODEL,
    VAR,
    Service,
    action_service,
    free_port,
    print_how_to_chat,
    rasa_service,
    rasa_token,
    run_until_stopped,
    sandbox_web_env,
    wait_until_healthy,
    web_env,
    web_service,
    write_endpoints,
)
from tools.stack.supervisor import Supervisor

SCALED = VAR / "scaled"
APP_DATABASE = "larkspur"
RASA_DATABASE = "larkspur_rasa"


# Not Rasa's ``type: redis``: two servers can race its tickets (tools/locks says how).
LOCK_STORE = "tools.locks.redis_lock_store.AtomicRedisLockStore"


def lock_store_yaml(redis_port: int) -> str:
    """The project's atomic Redis lock store (database 1; the web app's events and limits
    use 0)."""
    return f'lock_store:\n  type: {LOCK_STORE}\n  url: "127.0.0.1"\n  port: {redis_port}\n  db: 1\n'


def write_scaled_endpoints(
    action_port: int, database_url: str, redis_port: int, path: Path
) -> Path:
    """The scaled run's endpoints: PostgreSQL tracker store plus the Redis lock store
    (generated next to the run's data; the project's endpoints.yml stays the default)."""
    write_endpoints(action_port, path=path, database_url=database_url)
    with path.open("a") as handle:
        handle.write(lock_store_yaml(redis_port))
    return path


@dataclass
class Ports:
    """Where each process listens."""

    web: list[int]
    rasa: list[int]
    action: int
    redis: int
    postgres: int


@dataclass
class ScaledStack:
    """The processes of a scaled run, in start order, with their environments."""

    cluster: PostgresCluster
    first: list[Service]  # started alone (they create tables)
    rest: list[Service]
    envs: dict[str, dict[str, str]]
    web_urls: list[str]
    rasa_urls: list[str]
    database_url: str
    redis_url: str
    services: list[Service] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.services = self.first + self.rest

    def start(self) -> None:
        """Start every process, the table-creating ones first; RuntimeError if one dies."""
        for group in (self.first, self.rest):
            for service in group:
                service.start(self.envs[service.name])
            wait_until_healthy(group)

    def stop(self) -> None:
        """Stop the processes (last started first), then PostgreSQL."""
        for service in reversed(self.services):
            service.stop()
        self.cluster.stop()


def build(
    folder: Path,
    ports: Ports,
    token: str,
    base_env: dict[str, str],
    web_overrides: dict[str, str] | None = None,
    model: Path = MODEL,
    logs: Path | None = None,
) -> ScaledStack:
    """Start PostgreSQL (the processes come with :meth:`ScaledStack.start`) and describe
    the processes of a scaled run in ``folder``. ``web_overrides`` add to (or replace)
    each web worker's environment (benchmarks lift the rate limits, tests shorten
    timeouts)."""
    cluster = PostgresCluster(folder / "pg", ports.postgres)
    cluster.start()
    try:
        return _describe(cluster, folder, ports, token, base_env, web_overrides, model, logs)
    except BaseException:
        cluster.stop()
        raise


def _describe(
    cluster: PostgresCluster,
    folder: Path,
    ports: Ports,
    token: str,
    base_env: dict[str, str],
    web_overrides: dict[str, str] | None,
    model: Path,
    logs: Path | None,
) -> ScaledStack:
    logs = logs or folder / "logs"
    app_url = cluster.create_database(APP_DATABASE)
    rasa_url = cluster.create_database(RASA_DATABASE)
    redis_url = f"redis://127.0.0.1:{ports.redis}/0"
    endpoints = write_scaled_endpoints(
        ports.action, rasa_url, ports.redis, folder / "endpoints.yml"
    )
    redis = redis_service(ports.redis, folder / "redis", logs / "redis.log")
    actions = action_service(ports.action)
    actions.log_path = logs / "actions.log"
    rasas = []
    for number, port in enumerate(ports.rasa, 1):
        rasa = rasa_service(port, endpoints, token, model=model)
        rasa.name, rasa.log_path = f"Rasa server {number}", logs / f"rasa-{number}.log"
        rasas.append(rasa)
    webs = []
    for number, port in enumerate(ports.web, 1):
        web = web_service(port)
        web.name, web.log_path = f"web worker {number}", logs / f"web-{number}.log"
        webs.append(web)
    env = {**base_env, "RASA_TELEMETRY_ENABLED": "false"}
    rasa_urls = [f"http://127.0.0.1:{port}" for port in ports.rasa]
    worker_env = web_env(env, ports.rasa[0], token, demo=True)
    worker_env.update(
        {
            "DATABASE_URL": app_url,
            "REDIS_URL": redis_url,
            "RASA_URLS": ",".join(rasa_urls),
            # One data folder: the workers share the desk's secret (tokens work on both).
            "HANDOFF_DATA_DIR": str(folder / "web"),
            **(web_overrides or {}),
        }
    )
    envs = {service.name: env for service in [redis, actions, *rasas]}
    # Any worker can tell the assistant the current support hours: the first that answers.
    web_urls = [f"http://127.0.0.1:{port}" for port in ports.web]
    envs[actions.name] = {**env, "WEB_APP_URL": ",".join(web_urls)}
    envs.update({web.name: worker_env for web in webs})
    return ScaledStack(
        cluster=cluster,
        first=[redis, actions, rasas[0], webs[0]],
        rest=rasas[1:] + webs[1:],
        envs=envs,
        web_urls=web_urls,
        rasa_urls=rasa_urls,
        database_url=app_url,
        redis_url=redis_url,
    )


def sandbox(
    folder: Path,
    model: Path,
    token: str,
    web_overrides: dict[str, str],
    workers: int = 2,
    rasa_servers: int = 2,
) -> ScaledStack:
    """A scaled run for benchmarks and chaos tests: free ports, everything in ``folder``,
    open around the clock, the demo agent, no auto-assignment (as ``sandbox_web_env``)."""
    if os.geteuid() == 0:
        folder.chmod(0o711)  # PostgreSQL runs as its own user and must reach its folder
    sandboxed = sandbox_web_env({}, folder, 0, token)
    overrides = {
        name: value
        for name, value in sandboxed.items()
        if name in ("HANDOFF_SHOP_FILE", "HANDOFF_AUTO_ASSIGN", "HANDOFF_DEMO")
    }
    ports = Ports(
        web=[free_port() for _ in range(workers)],
        rasa=[free_port() for _ in range(rasa_servers)],
        action=free_port(),
        redis=free_port(),
        postgres=free_port(),
    )
    return build(folder, ports, token, dict(os.environ), {**overrides, **web_overrides}, model)


def stored_messages(database_url: str) -> list[tuple[str, int, str, str]]:
    """(conversation_id, id, author, text) of every stored message, in id order."""
    import psycopg2

    with psycopg2.connect(database_url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT conversation_id, id, author, text FROM messages ORDER BY id")
        return list(cursor.fetchall())


def main(argv: list[str] | None = None) -> int:
    """Start the scaled stack, print the URLs, supervise until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2, help="web workers (default 2)")
    parser.add_argument("--rasa-servers", type=int, default=2, help="Rasa servers (default 2)")
    parser.add_argument("--web-port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    parser.add_argument("--action-port", type=int, default=int(os.environ.get("ACTION_PORT", 5055)))
    parser.add_argument("--redis-port", type=int, default=int(os.environ.get("REDIS_PORT", 6390)))
    parser.add_argument("--pg-port", type=int, default=int(os.environ.get("PG_PORT", 5490)))
    args = parser.parse_args(argv)
    if args.workers < 1 or args.rasa_servers < 1:
        parser.error("--workers and --rasa-servers must be at least 1")
    if not MODEL.exists():
        print(f"No trained model at {MODEL}: run `make train` first.", file=sys.stderr)
        return 1
    ports = Ports(
        web=[args.web_port + i for i in range(args.workers)],
        rasa=[args.rasa_port + i for i in range(args.rasa_servers)],
        action=args.action_port,
        redis=args.redis_port,
        postgres=args.pg_port,
    )
    stack: ScaledStack | None = None

    def run() -> int:
        nonlocal stack
        stack = build(SCALED, ports, rasa_token(), dict(os.environ), logs=LOGS)
        stack.start()
        print_how_to_chat(ports.web[0])
        print(
            f"Web workers: {', '.join(stack.web_urls)} (one database, events and rate "
            f"limits through {stack.redis_url}). Rasa servers: {', '.join(stack.rasa_urls)}.",
            flush=True,
        )
        if len(stack.web_urls) > 1:
            print(
                f"Try a customer on {stack.web_urls[0]}/ and an agent on "
                f"{stack.web_urls[1]}/desk.\n",
                flush=True,
            )
        return Supervisor(stack.services, stack.envs).run()

    def stop() -> None:
        if stack is not None:
            stack.stop()

    print(f"Starting the scaled stack (logs in {LOGS}, data in {SCALED}) ...", flush=True)
    return run_until_stopped(run, stop)


if __name__ == "__main__":
    sys.exit(main())
