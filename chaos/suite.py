"""What both fault suites share: the command line, the runner, the workload under faults, and waiting for quiet.

`python -m chaos.run` (one RabbitMQ node) and `python -m chaos.cluster` (a cluster of three) differ in the
stack they open, the faults they plan and what they check besides the common verdict; `run_suite` does the
rest: the seed, the log directory, the stack's lifetime, the results file and the exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import random
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from chaos import checks
from chaos.faults import Injector
from chaos.plan import Fault
from chaos.stack import Stack, StackOptions
from chaos.workload import Client, ImportPlan, run_import
from testkit import eventually

S = TypeVar("S")
STARTED = time.monotonic()


def say(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:7.1f}s] {text}", flush=True)


@dataclass(frozen=True, slots=True)
class Profile:
    children: int
    imports: int
    kills: int
    window: float  # seconds over which the planned faults are spread
    quiesce_timeout: float


def parser(prog: str, doc: str | None, *, quick: str, results: str) -> argparse.ArgumentParser:
    """The options both suites take; each adds its own."""
    p = argparse.ArgumentParser(prog=prog, description=(doc or "").splitlines()[0])
    p.add_argument("--quick", action="store_true", help=quick)
    p.add_argument("--children", type=int)
    p.add_argument("--imports", type=int)
    p.add_argument("--kills", type=int)
    p.add_argument("--window", type=float, help="seconds over which the planned faults are spread")
    p.add_argument("--postgres-restarts", type=int, default=1, help="global to the machine: keep it at 1")
    p.add_argument("--provider-fault-rate", type=float, default=0.1)
    p.add_argument("--provider-timeout-seconds", type=float, default=11.0, help="longer than notify's 10 s")
    p.add_argument("--stale-seconds", type=float, default=45.0)
    late = "a late acceptance is taken this long after notify gave up (default: 20, quick 5)"
    p.add_argument("--provider-late-seconds", type=float, help=late)
    in_flight = "NOTIFY_PROVIDER_IN_FLIGHT_SECONDS, more than the late acceptances (default: 30, quick 10)"
    p.add_argument("--provider-in-flight-seconds", type=float, help=in_flight)
    p.add_argument("--postpone-seconds", type=float, default=10.0)
    p.add_argument("--seed", type=int)
    p.add_argument("--results", type=Path, default=Path(results))
    p.add_argument("--log-dir", type=Path)
    return p


NOTIFY_TIMEOUT = 10.0  # notify's NOTIFY_PROVIDER_TIMEOUT, left at its default by the suites


def provider_timing(args: argparse.Namespace) -> tuple[float, float]:
    """(late acceptance, notify's in-flight bound) in seconds: the outside test's 20 s, or 5 s to stay quick."""
    late = args.provider_late_seconds or (5.0 if args.quick else 20.0)
    in_flight = args.provider_in_flight_seconds or (10.0 if args.quick else 30.0)
    if late >= in_flight:
        raise SystemExit("--provider-late-seconds must be less than --provider-in-flight-seconds")
    if args.stale_seconds < NOTIFY_TIMEOUT + in_flight:  # notify would refuse to start
        raise SystemExit("--stale-seconds must be at least 10 s (notify's timeout) + --provider-in-flight-seconds")
    return late, in_flight


def profile_of(args: argparse.Namespace, base: Profile) -> Profile:
    """`base` with whatever the command line says instead."""
    return Profile(
        children=args.children or base.children,
        imports=args.imports or base.imports,
        kills=args.kills if args.kills is not None else base.kills,
        window=args.window or base.window,
        quiesce_timeout=base.quiesce_timeout,
    )


Scenario = Callable[[S, random.Random], Coroutine[Any, Any, dict[str, Any]]]


def run_suite(
    args: argparse.Namespace,
    *,
    name: str,
    describe: str,
    open_stack: Callable[[ExitStack, StackOptions], S],
    scenario: Scenario[S],
    print_summary: Callable[[dict[str, Any]], None],
) -> int:
    """Open the stack, run the scenario on it, write and show the results; exit status 1 unless all is well."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix=f"{name}-logs-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    say(f"{describe}, seed {seed}; logs in {log_dir}")
    _, in_flight = provider_timing(args)
    options = StackOptions(
        log_dir, seed, args.stale_seconds, args.postpone_seconds, say=say, in_flight_seconds=in_flight
    )
    with ExitStack() as resources:
        results = asyncio.run(scenario(open_stack(resources, options), random.Random(seed)))
        results.update(seed=seed, profile="quick" if args.quick else "full", seconds=round(time.monotonic() - began))
        args.results.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print_summary(results)
    say(f"wrote {args.results} ({results['seconds']}s)")
    return 0 if results["ok"] else 1


@dataclass
class Progress:
    committed: int = 0
    children_committed: int = 0


@dataclass
class Team:
    """One team's part of the workload: its imports, sent by its own client, paced over `spread` of the window."""

    ods: str
    year: int
    client: Client
    imports: list[ImportPlan]
    spread: float = 0.4


async def workload(
    team: Team, injector: Injector, database: checks.Database, progress: Progress, profile: Profile, started: float
) -> None:
    """The team's imports, spread over the first `spread` of the fault window; cohort is killed during the middle
    one's commit."""
    loop = asyncio.get_running_loop()
    spacing = team.spread * profile.window / len(team.imports)
    for plan in team.imports:
        delay = started + (plan.number - 1) * spacing - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)  # pacing the imports across the run
        middle = plan.number == (len(team.imports) + 1) // 2
        kill = _kill_mid_commit(injector, database) if middle else None
        result = await run_import(team.client, team.ods, plan, team.year, while_committing=kill)
        progress.committed += 1
        progress.children_committed += len(plan.children)
        joined = result["joined_clinic"]
        say(f"import {plan.number}/{len(team.imports)} committed: {len(plan.children)} rows, joined {joined}")


def _kill_mid_commit(injector: Injector, database: checks.Database) -> Callable[[ImportPlan], Awaitable[None]]:
    async def kill(plan: ImportPlan) -> None:
        async def applying() -> bool:
            try:
                return await database.import_status(plan.import_id) == "applying"
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                # PostgreSQL restarting, a fault of this very run: look again rather than end the workload
                # (cluster-chaos-quick once lost a team's last imports so, counted against the system).
                return False

        with contextlib.suppress(AssertionError):  # finished before we looked: still a kill, not mid-commit
            await eventually(applying, timeout=60, interval=0.01, what="the commit under way")
        await injector.kill_now("cohort", mid_commit=await applying())

    return kill


async def report_progress(
    stack: Stack, database: checks.Database, injector: Injector, progress: Progress, expected: int
) -> None:
    while True:
        await asyncio.sleep(10)
        try:
            stats, pending = await stack.stub.stats(), await database.pending()
        except Exception as exc:  # the database may be restarting
            say(f"progress: unavailable ({type(exc).__name__})")
            continue
        say(
            f"progress: children committed {progress.children_committed}, provider accepted "
            f"{stats['recorded']}/{expected}, kills {injector.log.total_kills}, restarts "
            f"{dict(injector.log.restarts)}, notify pending {pending['notifications']} notifications / "
            f"{pending['invitations']} invitations, outboxes {pending['outbox']}"
        )


async def wait_quiet(stack: Stack, database: checks.Database, timeout: float) -> bool:
    """Quiet: nothing pending in notify, no import applying, outboxes and queues empty, stub count still."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last, still_since, printed = -1, loop.time(), 0.0
    while loop.time() < deadline:
        try:
            pending = await database.pending()
            depths = await checks.queue_depths(stack.amqp_url, checks.live_queues())
            recorded = int((await stack.stub.stats())["recorded"])
        except Exception as exc:
            say(f"quiet check failed ({type(exc).__name__}); again")
            await asyncio.sleep(2)
            continue
        if recorded != last:
            last, still_since = recorded, loop.time()
        idle = not any(pending.values()) and not any(depths.values())
        if idle and loop.time() - still_since >= 10:
            say(f"quiet: provider accepted {recorded}, nothing pending anywhere")
            return True
        if loop.time() - printed >= 15:
            printed = loop.time()
            busy = {k: v for k, v in depths.items() if v}
            say(f"  not quiet yet: accepted {recorded}, pending {pending}, queues {busy}")
        await asyncio.sleep(2)
    say(f"NOT QUIET after {timeout:.0f}s; counting anyway")
    return False


@dataclass
class Outcome:
    quiet: bool
    errors: list[str]
    client_retries: int


async def drive(
    stack: Stack, injector: Injector, plan: list[Fault], teams: Mapping[str, Team], profile: Profile, expected: int
) -> Outcome:
    """The faults and every team's workload at once; then provider faults off, and wait until all is quiet."""
    database = checks.Database(stack.database_url)
    progress = Progress()
    started = asyncio.get_running_loop().time()
    faulting = asyncio.create_task(injector.run(plan, started))
    working = {
        f"workload {ods}" if len(teams) > 1 else "workload": asyncio.create_task(
            workload(team, injector, database, progress, profile, started)
        )
        for ods, team in teams.items()
    }
    watching = asyncio.create_task(report_progress(stack, database, injector, progress, expected))
    errors: list[str] = []
    for name, task in [*working.items(), ("fault injector", faulting)]:
        try:
            await task
        except Exception as exc:
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
            say(f"the {errors[-1]}")
    await stack.stub.set_faults({"probabilistic": None})
    say("every fault injected; provider faults off; waiting for the system to go quiet")
    quiet = await wait_quiet(stack, database, profile.quiesce_timeout)
    watching.cancel()
    for team in teams.values():
        await team.client.close()
    return Outcome(quiet, errors, sum(t.client.retries for t in teams.values()))
