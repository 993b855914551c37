"""`python -m bench [--quick]`: every SPEC §5 figure in one run, against a raw baseline measured in the same run.

Runs against the PostgreSQL and RabbitMQ that DATABASE_URL and RABBITMQ_URL name (else the local defaults);
each phase gets a fresh database and vhost, the GOV.UK Notify stub and the four services as processes, with
their logs under .run/bench/<phase>/. Prints a table with a verdict per target and writes bench-results.json.
Exits 0 whether or not targets are met (MISSED is printed); 1 only if a phase could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import followup, parents, phases
from bench.baseline import raw_batched_insert, raw_publish_consume
from bench.cpu import CpuMeter
from bench.figures import table, verdicts
from bench.runner import Figures, Part, Run, Servers, run
from bench.stack import RUN_DIR, admin_dsn, postmaster, quiet, stack, world
from bench.workload import log
from testkit.stack import Stack, World

RESULTS = Path("bench-results.json")
# The dispatcher against the unthrottled stub: no rate limit, and daily limits no run can reach.
UNTHROTTLED = {"NOTIFY_RATE_LIMIT_ENABLED": "false"}


def raw(the_world: World, sizes: phases.Sizes) -> dict[str, Any]:
    messages = asyncio.run(raw_publish_consume(the_world.amqp_url, sizes.raw_messages))
    rows = asyncio.run(raw_batched_insert(admin_dsn(the_world.database_url), sizes.cohort_children))
    return {"raw_msgs_per_s": messages, "raw_messages": sizes.raw_messages, "raw_insert_rows_per_s": rows}


Phase = Callable[[Stack, CpuMeter], Coroutine[Any, Any, Figures]]


def in_stack(the_world: World, name: str, phase: Phase, **options: Any) -> Figures:
    """Run one phase against fresh processes, then wait until the system has finished its work."""
    with stack(name, the_world, **options) as st:
        pids = {n: p.process.pid for n, p in st.processes.items() if p.process is not None}
        port = urlsplit(the_world.amqp_url).port or 5672
        meter = CpuMeter(pids, postmaster=asyncio.run(postmaster(the_world.database_url)), amqp_port=port)
        meter.start()  # a phase may start it again when its clock starts
        found: Figures = asyncio.run(phase(st, meter))
        found[f"{name}_cpu_s"] = meter.used()
        found[f"{name}_peak_rss_mb"] = st.peak_rss()
        log(name, "waiting for every queue and outbox to empty")
        dead = asyncio.run(quiet(the_world))
        found[f"{name}_cpu_s_until_quiet"] = meter.used()
        log(name, f"CPU seconds until quiet: {found[f'{name}_cpu_s_until_quiet']}")
        if dead:
            found[f"{name}_dead_lettered"] = dead
        return found


def parts(the_world: World, sizes: phases.Sizes) -> list[Part]:
    """The raw baseline, then each phase on a stack of its own (notify's settings and the stub's per phase)."""
    limit = sizes.rate_limit_per_minute
    ratelimit = {
        "NOTIFY_RATE_LIMIT_PER_MINUTE": str(limit),
        "NOTIFY_SEND_RATE_PER_SECOND": f"{sizes.send_rate_per_second:g}",
        "NOTIFY_RATE_LIMIT_BUCKET": "bench-ratelimit",
    }

    def unthrottled(bucket: str) -> dict[str, str]:
        return UNTHROTTLED | {"NOTIFY_RATE_LIMIT_BUCKET": f"bench-{bucket}"}

    def part(name: str, phase: Phase, **options: Any) -> Part:
        return name, lambda: in_stack(the_world, name, phase, **options)

    return [
        ("raw", lambda: raw(the_world, sizes)),
        part("cohort", lambda st, cpu: phases.cohort_to_scheduled(st, sizes, cpu)),
        part("latency", lambda st, cpu: phases.latency(st, sizes)),
        part("dispatch", lambda st, cpu: phases.dispatch(st, sizes), notify_env=unthrottled("dispatch")),
        part("ratelimit", lambda st, cpu: phases.rate_limit(st, sizes), notify_env=ratelimit, notify_replicas=3,
             stub_rate_limit=limit),
        part("followup", lambda st, cpu: followup.followup(st, sizes, cpu), notify_env=unthrottled("followup"),
             stub_callbacks=True),
        part("callbacks", lambda st, cpu: followup.callbacks(st, sizes, cpu), notify_env=unthrottled("callbacks")),
        part("parents", lambda st, cpu: parents.parents(st, sizes, cpu), notify_env=unthrottled("parents"),
             web=parents.WEB_ENV),
    ]  # fmt: skip


def report(results: Figures) -> str:
    return (
        table(("figure", "value", "unit", "target", "verdict"), verdicts(results))
        + f"\n\nraw loop: {results.get('raw_msgs_per_s', 0):,.0f} msgs/s; "
        f"raw batched insert: {results.get('raw_insert_rows_per_s', 0):,.0f} rows/s; "
        f"bare Starlette page p95 {results.get('bare_page_p95_ms', 0):,.1f} ms; "
        f"OpenConsentForm round trip p50 {results.get('rpc_open_form_p50_ms', 0):,.1f} ms; wrote {RESULTS}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about a tenth of the work (CI)")
    parser.add_argument("--only", nargs="*", help="run only these phases (for profiling)", default=None)
    args = parser.parse_args()
    sizes = phases.QUICK if args.quick else phases.FULL
    RUN_DIR.mkdir(parents=True, exist_ok=True)

    def chosen(servers: Servers, exits: ExitStack) -> Sequence[Part]:
        the_world = exits.enter_context(world(servers.postgres, servers.rabbit))
        return [(name, part) for name, part in parts(the_world, sizes) if not args.only or name in args.only]

    return run(Run("bench", args.quick, RESULTS, report, derive=_derive), chosen)


def _derive(results: dict[str, Any]) -> None:
    if results.get("invitations_per_s") and results.get("raw_msgs_per_s"):
        results["invitations_ratio_to_raw"] = results["invitations_per_s"] / results["raw_msgs_per_s"]
    if "cohort_peak_rss_mb" in results:
        sampled = results.get("rss_sampled_mb", {})
        peaks = results["cohort_peak_rss_mb"]
        results["rss_mb_max"] = {k: max(v, sampled.get(k, 0.0)) for k, v in peaks.items()}
    if "parents_peak_rss_mb" in results:  # the web service runs only in the parents phase
        peaks = results["parents_peak_rss_mb"] | results.get("parents_rss_sampled_mb", {})
        results.setdefault("rss_mb_max", {})["consent_form"] = max(
            results["parents_peak_rss_mb"].get("consent_form", 0.0), peaks.get("consent_form", 0.0)
        )
    for key in ("raw_msgs_per_s", "raw_insert_rows_per_s", "invitations_per_s", "invitations_ratio_to_raw"):
        if key in results:
            results[key] = round(results[key], 2)
    for key in list(results):
        if isinstance(results[key], float):
            results[key] = round(results[key], 3)


if __name__ == "__main__":
    sys.exit(main())
