"""What `python -m bench` and `python -m bench.scale` share: the servers, the machine, and running their parts.

Each part is a name and a function giving its figures; a part that fails is reported and the next one runs.
The figures (with the machine, the mode, the errors and the duration) go to a JSON file, then a table.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bench.workload import log
from testkit.servers import RabbitServer, postgres_server, rabbitmq_server, with_database

Figures = dict[str, Any]
Part = tuple[str, Callable[[], Figures]]


@dataclass(frozen=True)
class Servers:
    """The PostgreSQL server (its URL) and the RabbitMQ node a run measures on."""

    postgres: str
    rabbit: RabbitServer


@dataclass(frozen=True)
class Run:
    """One run: its name in the log, its mode, where its figures go and how they are shown."""

    name: str
    quick: bool
    results: Path
    report: Callable[[Figures], str]
    derive: Callable[[Figures], None] = lambda results: None


def machine(server_url: str) -> dict[str, Any]:
    """The machine the figures were measured on: CPU, cores, memory, OS, Python, PostgreSQL and RabbitMQ."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": asyncio.run(_postgres_version(server_url)),
        "rabbitmq": _rabbitmq_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


async def _postgres_version(server_url: str) -> str:
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def _rabbitmq_version() -> str:
    try:
        rabbit = subprocess.run(["rabbitmqctl", "-q", "version"], capture_output=True, text=True, timeout=30)
        return rabbit.stdout.strip() or "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def run(spec: Run, parts: Callable[[Servers, ExitStack], Sequence[Part]]) -> int:
    """Run every part `parts` gives on this run's servers; write and show the figures. Exit status 1 if a part
    could not run to the end (a target MISSED is a figure, not an error)."""
    results: Figures = {"mode": "quick" if spec.quick else "full"}
    began = time.monotonic()
    with ExitStack() as exits:
        servers = Servers(exits.enter_context(postgres_server(exits)), exits.enter_context(rabbitmq_server(exits)))
        results["machine"] = machine(servers.postgres)
        log(spec.name, f"{results['mode']} run on {results['machine']['cpu']} ({results['machine']['cores']} cores)")
        errors = _run_parts(parts(servers, exits), results)
    spec.derive(results)
    results["errors"] = errors
    results["duration_s"] = round(time.monotonic() - began, 1)
    spec.results.write_text(json.dumps(results, indent=2, sort_keys=True, default=str) + "\n")
    print()
    print(spec.report(results))
    for name, error in errors.items():
        print(f"part {name} did not run to the end: {error}", file=sys.stderr)
    return 1 if errors else 0


def _run_parts(parts: Sequence[Part], results: Figures) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, part in parts:
        log(name, "starting")
        started = time.monotonic()
        try:
            results.update(part())
        except Exception as exc:
            traceback.print_exc()
            errors[name] = f"{type(exc).__name__}: {exc}"
            log(name, f"FAILED: {errors[name]}")
        log(name, f"finished in {time.monotonic() - started:.0f}s")
    return errors
