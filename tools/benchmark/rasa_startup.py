"""How long a (re)started Rasa server takes to answer, and where the time goes:
`python -m tools.benchmark.rasa_startup [--model PATH] [--runs 3]`.

With one Rasa server (`make run`), customers get answers again after a Rasa crash only
once the restarted process answers, so this start-up is the floor of `make chaos`'s
Rasa recovery. Two measurements, each in fresh processes:

- ready: the command `make run` uses (``tools.stack.runner.rasa_service``) on a free
  port, from process start until its health URL answers (Sanic binds the port only after
  the model is loaded), and the process's resident memory then;
- breakdown, in a fresh interpreter: importing TensorFlow, the rest of what `rasa run`
  imports, unpacking the model archive, and loading each graph component.

The last line is machine-readable, e.g. ``rasa_ready_s=5.2 rss_mb=571``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.benchmark.bench import rss_tree_mb
from tools.stack.runner import MODEL, free_port, rasa_service, write_endpoints

TIMEOUT_S = 300.0
QUIET = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}


def time_ready(model: Path, folder: Path) -> tuple[float, float]:
    """Seconds from start until `make run`'s Rasa command answers, and its RSS in MB."""
    endpoints = write_endpoints(free_port(), path=folder / "endpoints.yml")
    service = rasa_service(free_port(), endpoints, "startup-bench-token", model=model)
    service.log_path = folder / "rasa.log"
    started = time.monotonic()
    service.start({**os.environ, **QUIET})
    try:
        while not service.healthy():
            if service.exit_code() is not None or time.monotonic() - started > TIMEOUT_S:
                raise SystemExit(f"Rasa did not start; end of its log:\n{service.log_tail()}")
            time.sleep(0.05)
        ready = time.monotonic() - started
        assert service.process is not None
        return ready, rss_tree_mb(service.process.pid)
    finally:
        service.stop()


def phases(model: Path) -> dict[str, float]:
    """Seconds per start-up phase, measured in this (fresh) interpreter."""
    seconds: dict[str, float] = {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        seconds[name] = round(time.perf_counter() - mark, 2)
        mark = time.perf_counter()

    import tensorflow  # noqa: F401  (Rasa imports it whatever the policies)

    lap("import tensorflow")
    import rasa.__main__  # noqa: F401
    import rasa.core.run  # noqa: F401

    lap("import rasa run (rest: sanic, rasa, scikit-learn ...)")
    import tarfile

    with tempfile.TemporaryDirectory() as unpacked, tarfile.open(model) as archive:
        archive.extractall(unpacked)
    lap("unpack the model archive")

    from rasa.core.agent import Agent
    from rasa.engine.graph import GraphNode

    # Time each component's load: wrap the graph node's (private) loader, here only.
    load_component = GraphNode._load_component

    def timed(node: GraphNode, **kwargs: object) -> None:
        began = time.perf_counter()
        load_component(node, **kwargs)
        name = f"load {node._component_class.__name__}"
        seconds[name] = round(seconds.get(name, 0.0) + time.perf_counter() - began, 2)

    GraphNode._load_component = timed
    mark = time.perf_counter()
    Agent.load(str(model))
    seconds["Agent.load in all"] = round(time.perf_counter() - mark, 2)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--phases-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.model.exists():
        print(f"No trained model at {args.model}: run `make train` first.", file=sys.stderr)
        return 2
    if args.phases_only:  # the child of the breakdown below
        print(json.dumps(phases(args.model)))
        return 0

    readies, rss = [], []
    with tempfile.TemporaryDirectory() as folder:
        for run in range(1, args.runs + 1):
            ready, mb = time_ready(args.model, Path(folder))
            readies.append(ready)
            rss.append(mb)
            print(f"run {run}: answers after {ready:.1f} s, RSS {mb:.0f} MB", flush=True)
    child = subprocess.run(
        [sys.executable, "-m", "tools.benchmark.rasa_startup", "--phases-only"]
        + ["--model", str(args.model)],
        env={**os.environ, **QUIET},
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"\nBreakdown (fresh interpreter, {args.model.name}):")
    breakdown = json.loads(child.stdout.strip().splitlines()[-1])
    for name, value in breakdown.items():
        print(f"  {value:6.2f} s  {name}")
    print(f"\nrasa_ready_s={statistics.median(readies):.1f} rss_mb={statistics.median(rss):.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
