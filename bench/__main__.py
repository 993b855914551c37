"""`python -m bench [--quick]`: every SPEC §5 figure in one run, against a raw baseline measured in the same run.

Runs against the PostgreSQL and RabbitMQ that DATABASE_URL and RABBITMQ_URL name (else the local defaults);
each phase gets a fresh database and vhost, the GOV.UK Notify stub and the four services as processes, with
their logs under .run/bench/<phase>/. Prints a table with a verdict per target and writes bench-results.json.
Exits 0 whether or not targets are met (MISSED is printed); 1 only if a phase could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from bench import followup, phases
from bench.baseline import raw_batched_insert, raw_publish_consume
from bench.cpu import CpuMeter
from bench.figures import table, verdicts
from bench.stack import RUN_DIR, Stack, World, admin_dsn, quiet, stack, world
from bench.workload import log
from msgkit.testing import postgres_server, rabbitmq_server, with_database

RESULTS = Path("bench-results.json")
# The dispatcher against the unthrottled stub: no rate limit, and daily limits no run can reach.
UNTHROTTLED = {"NOTIFY_RATE_LIMIT_ENABLED": "false"}


def machine(server_url: str) -> dict[str, Any]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line)

    async def pg_version() -> str:
        conn = await asyncpg.connect(with_database(server_url, "postgres"))
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    try:
        rabbit = subprocess.run(["rabbitmqctl", "-q", "version"], capture_output=True, text=True, timeout=30)
        rabbit_version = rabbit.stdout.strip() or "?"
    except (OSError, subprocess.TimeoutExpired):
        rabbit_version = "?"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": asyncio.run(pg_version()),
        "rabbitmq": rabbit_version,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def raw(the_world: World, sizes: phases.Sizes) -> dict[str, Any]:
    messages = asyncio.run(raw_publish_consume(the_world.amqp_url, sizes.raw_messages))
    rows = asyncio.run(raw_batched_insert(admin_dsn(the_world.database_url), sizes.cohort_children))
    return {"raw_msgs_per_s": messages, "raw_messages": sizes.raw_messages, "raw_insert_rows_per_s": rows}


def in_stack(the_world: World, name: str, run: Callable[[Stack], Any], **options: Any) -> dict[str, Any]:
    """Run one phase against fresh processes, then wait until the system has finished its work."""
    with stack(name, the_world, **options) as st:
        pids = {n: p.process.pid for n, p in st.services.items() if p.process is not None}
        port = urlsplit(the_world.amqp_url).port or 5672
        meter = st.cpu = CpuMeter(pids, postmaster=the_world.postmaster, amqp_port=port)
        meter.start()  # a phase may start it again when its clock starts
        found: dict[str, Any] = asyncio.run(run(st))
        found[f"{name}_cpu_s"] = meter.used()
        found[f"{name}_peak_rss_mb"] = st.peak_rss()
        log(name, "waiting for every queue and outbox to empty")
        dead = asyncio.run(quiet(the_world))
        found[f"{name}_cpu_s_until_quiet"] = meter.used()
        log(name, f"CPU seconds until quiet: {found[f'{name}_cpu_s_until_quiet']}")
        if dead:
            found[f"{name}_dead_lettered"] = dead
        return found


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about a tenth of the work (CI)")
    parser.add_argument("--only", nargs="*", help="run only these phases (for profiling)", default=None)
    args = parser.parse_args()
    sizes = phases.QUICK if args.quick else phases.FULL
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"mode": "quick" if args.quick else "full"}
    errors: dict[str, str] = {}
    began = time.monotonic()
    with ExitStack() as exits:
        server_url = exits.enter_context(postgres_server(exits))
        rabbit = exits.enter_context(rabbitmq_server(exits))
        results["machine"] = machine(server_url)
        log("bench", f"{results['mode']} run on {results['machine']['cpu']} ({results['machine']['cores']} cores)")
        the_world = exits.enter_context(world(server_url, rabbit))
        limit = sizes.rate_limit_per_minute
        steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("raw", lambda: raw(the_world, sizes)),
            ("cohort", lambda: in_stack(the_world, "cohort", lambda st: phases.cohort_to_scheduled(st, sizes))),
            ("latency", lambda: in_stack(the_world, "latency", lambda st: phases.latency(st, sizes))),
            (
                "dispatch",
                lambda: in_stack(
                    the_world,
                    "dispatch",
                    lambda st: phases.dispatch(st, sizes),
                    notify_env=UNTHROTTLED | {"NOTIFY_RATE_LIMIT_BUCKET": "bench-dispatch"},
                ),
            ),
            (
                "ratelimit",
                lambda: in_stack(
                    the_world,
                    "ratelimit",
                    lambda st: phases.rate_limit(st, sizes),
                    notify_env={
                        "NOTIFY_RATE_LIMIT_PER_MINUTE": str(limit),
                        "NOTIFY_SEND_RATE_PER_SECOND": f"{sizes.send_rate_per_second:g}",
                        "NOTIFY_RATE_LIMIT_BUCKET": "bench-ratelimit",
                    },
                    notify_replicas=3,
                    stub_rate_limit=limit,
                ),
            ),
            (
                "followup",
                lambda: in_stack(
                    the_world,
                    "followup",
                    lambda st: followup.followup(st, sizes),
                    notify_env=UNTHROTTLED | {"NOTIFY_RATE_LIMIT_BUCKET": "bench-followup"},
                    stub_callbacks=True,
                ),
            ),
            (
                "callbacks",
                lambda: in_stack(
                    the_world,
                    "callbacks",
                    lambda st: followup.callbacks(st, sizes),
                    notify_env=UNTHROTTLED | {"NOTIFY_RATE_LIMIT_BUCKET": "bench-callbacks"},
                ),
            ),
        ]
        for name, step in steps:
            if args.only and name not in args.only:
                continue
            log(name, "starting")
            started = time.monotonic()
            try:
                results.update(step())
            except Exception as exc:
                traceback.print_exc()
                errors[name] = f"{type(exc).__name__}: {exc}"
                log(name, f"FAILED: {errors[name]}")
            log(name, f"finished in {time.monotonic() - started:.0f}s")
    _derive(results)
    results["errors"] = errors
    results["duration_s"] = round(time.monotonic() - began, 1)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print()
    print(table(("figure", "value", "unit", "target", "verdict"), verdicts(results)))
    print(f"\nraw loop: {results.get('raw_msgs_per_s', 0):,.0f} msgs/s; "
          f"raw batched insert: {results.get('raw_insert_rows_per_s', 0):,.0f} rows/s; wrote {RESULTS}")  # fmt: skip
    for name, error in errors.items():
        print(f"phase {name} did not run to the end: {error}", file=sys.stderr)
    return 1 if errors else 0


def _derive(results: dict[str, Any]) -> None:
    if results.get("invitations_per_s") and results.get("raw_msgs_per_s"):
        results["invitations_ratio_to_raw"] = results["invitations_per_s"] / results["raw_msgs_per_s"]
    if "cohort_peak_rss_mb" in results:
        sampled = results.get("rss_sampled_mb", {})
        peaks = results["cohort_peak_rss_mb"]
        results["rss_mb_max"] = {k: max(v, sampled.get(k, 0.0)) for k, v in peaks.items()}
    for key in ("raw_msgs_per_s", "raw_insert_rows_per_s", "invitations_per_s", "invitations_ratio_to_raw"):
        if key in results:
            results[key] = round(results[key], 2)
    for key in list(results):
        if isinstance(results[key], float):
            results[key] = round(results[key], 3)


if __name__ == "__main__":
    sys.exit(main())
