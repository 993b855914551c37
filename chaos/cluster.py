"""`python -m chaos.cluster [--quick]`: the fault suite on a 3-node RabbitMQ cluster, two replicas of every service.

The cluster is the suite's own (chaos.cluster_stack: ports 5711-5713, data under .run/cluster-chaos/), its
quorum queues have 3 members, and every replica of sessions, cohort, consent and notify is given all three
nodes. Several teams import cohorts whose clinic is due now, so every child's parent is invited by email
and SMS, while replicas are SIGKILLed and restarted, the node leading the most quorum queues is stopped
(gracefully, or with kill -9) and started again, PostgreSQL restarts once and the provider misbehaves as
in chaos.run. When everything is quiet every (child, parent, channel, kind) is counted as chaos.run does.

Writes cluster-chaos-results.json. Exit status 1 on any loss, duplicate or message left in a queue, a
replica not ready, too few node restarts (or none by kill -9), or a promised fault kind not injected.

Recovery of a fault, as `slowest_recovery_s` reports it: seconds from the moment the fault is injected (the
SIGKILL, the node's stop or kill -9, PostgreSQL's restart command) until the system is whole again: for a
node, it is back in the cluster's running nodes (after an outage of --node-outage-seconds, included), and
for every fault, every replica answers /health/ready (broker and database connected, consumers attached).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from chaos import checks
from chaos.cluster_stack import ClusterStack, open_cluster_stack
from chaos.faults import Injector
from chaos.plan import Fault, FaultKind, node_fault_count, plan_cluster_faults, provider_faults
from chaos.run import Profile, Progress, report_progress, say, verdict, wait_quiet, workload
from chaos.workload import Client, ImportPlan, make_children, set_up_team, split
from contracts.topology import SERVICES
from msgkit.clock import SystemClock, academic_year_of, london_today
from msgkit.testing import eventually

NODE_FAULTS = (FaultKind.NODE_STOP, FaultKind.NODE_KILL)
REPLICAS = 2


@dataclass(frozen=True, slots=True)
class ClusterProfile:
    base: Profile  # children, imports per team, kills, window, quiesce timeout
    teams: int
    node_stops: int
    node_kills: int

    @property
    def node_restarts(self) -> int:
        return self.node_stops + self.node_kills


# Kills: each of the 8 replicas at least once (plan_faults' rule); cohort is also killed mid-commit once per team.
QUICK = ClusterProfile(
    Profile(children=600, imports=4, kills=8, window=150.0, quiesce_timeout=360.0), teams=3, node_stops=2, node_kills=1
)
FULL = ClusterProfile(
    Profile(children=10_000, imports=4, kills=24, window=600.0, quiesce_timeout=900.0),
    teams=5,
    node_stops=4,
    node_kills=2,
)
# The teams' imports start over the first 80 % of the window (chaos.run: 40 %), so that sends are still
# under way when the later node faults land rather than on a system that has gone idle.
IMPORT_SPREAD = 0.8
# Node faults are planned in the first 60 %, before the teams' last imports start: sends are under way when a
# node goes away (the injector also waits up to 30 s for sends pending), rather than after the last one.
NODE_FAULTS_END = 0.6
MIN_NODE_RESTARTS = 3
MAX_RECOVERY_SECONDS = 60.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chaos.cluster", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="600 children, 3 node restarts, a short window (CI)")
    parser.add_argument("--children", type=int)
    parser.add_argument("--teams", type=int)
    parser.add_argument("--imports", type=int, help="imports per team")
    parser.add_argument("--kills", type=int, help="planned replica kills (at least one per replica)")
    parser.add_argument("--node-stops", type=int)
    parser.add_argument("--node-kills", type=int, help="node restarts by kill -9")
    parser.add_argument("--window", type=float, help="seconds over which the planned faults are spread")
    parser.add_argument("--node-outage-seconds", type=float, default=5.0, help="how long a node stays down")
    parser.add_argument("--postgres-restarts", type=int, default=1, help="CHAOS_POSTGRES_RESTART says how")
    parser.add_argument("--provider-fault-rate", type=float, default=0.1)
    parser.add_argument("--provider-timeout-seconds", type=float, default=11.0, help="longer than notify's 10 s")
    parser.add_argument("--stale-seconds", type=float, default=45.0)
    parser.add_argument("--postpone-seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--results", type=Path, default=Path("cluster-chaos-results.json"))
    parser.add_argument("--log-dir", type=Path)
    return parser.parse_args(argv)


def profile_of(args: argparse.Namespace) -> ClusterProfile:
    base = QUICK if args.quick else FULL
    return ClusterProfile(
        Profile(
            children=args.children or base.base.children,
            imports=args.imports or base.base.imports,
            kills=args.kills if args.kills is not None else base.base.kills,
            window=args.window or base.base.window,
            quiesce_timeout=base.base.quiesce_timeout,
        ),
        teams=args.teams or base.teams,
        node_stops=args.node_stops if args.node_stops is not None else base.node_stops,
        node_kills=args.node_kills if args.node_kills is not None else base.node_kills,
    )


def plan_for(profile: ClusterProfile, targets: list[str], rng: random.Random, *, postgres_restarts: int) -> list[Fault]:
    """The run's faults (tests/chaos checks the quick one): every replica killed, node faults spread out."""
    return plan_cluster_faults(
        rng,
        targets=targets,
        kills=profile.base.kills,
        start=5.0,
        end=profile.base.window,
        node_stops=profile.node_stops,
        node_kills=profile.node_kills,
        postgres_restarts=postgres_restarts,
        node_end=NODE_FAULTS_END * profile.base.window,
    )


class ClusterInjector(Injector):
    """chaos.faults.Injector, plus node faults on the cluster; a kill of a service name picks one of its replicas."""

    def __init__(self, cs: ClusterStack, *, node_outage_seconds: float, say: Callable[[str], None]) -> None:
        super().__init__(cs.stack, outage_seconds=node_outage_seconds, say=say)
        self._cs = cs
        self._turn = itertools.count()
        self.node_restarts: Counter[str] = Counter()
        self.recoveries: list[dict[str, Any]] = []

    async def kill_now(self, target: str, *, mid_commit: bool = False) -> None:
        if target not in self._stack.processes:  # chaos.run.workload asks for "cohort": take turns
            replicas = [n for n in self._stack.processes if n.rsplit("-", 1)[0] == target]
            target = replicas[next(self._turn) % len(replicas)]
        await super().kill_now(target, mid_commit=mid_commit)

    async def inject(self, fault: Fault) -> None:
        if fault.kind not in NODE_FAULTS:
            await super().inject(fault)
            self.recoveries.append({"fault": fault.describe(), "seconds": round(self.log.recovery_seconds[-1], 1)})
            return
        cluster = self._cs.cluster
        leaders = await asyncio.to_thread(self._cs.leader_counts)
        victim = cluster.node(max(leaders, key=lambda n: leaders[n])) if leaders else cluster.answering()
        led = leaders.get(victim.nodename, 0)
        self._say(f"  {victim.nodename} leads {led} of {sum(leaders.values())} quorum queues")
        under_load = await self._sends_pending()
        began = time.monotonic()
        progressing = asyncio.create_task(self._progress_after(began))
        if fault.kind is FaultKind.NODE_KILL:
            await asyncio.to_thread(cluster.kill, victim)
        else:
            await asyncio.to_thread(cluster.stop, victim)
        await asyncio.sleep(self._outage)  # how long the node stays away is the fault itself
        await asyncio.to_thread(cluster.start, victim)
        await asyncio.to_thread(cluster.wait_rejoined, victim)
        rejoined = time.monotonic() - began
        await self.recover()
        took = time.monotonic() - began
        progress = await progressing
        self.node_restarts[str(fault.kind)] += 1
        self.log.restarts["rabbitmq"] += 1  # what chaos.run's verdict counts as the broker restarting
        self.log.recovery_seconds.append(took)
        self.recoveries.append(
            {"fault": str(fault.kind), "node": victim.nodename, "led_queues": led, "rejoined_s": round(rejoined, 1),
             "seconds": round(took, 1), "first_send_s": progress, "under_load": under_load}
        )  # fmt: skip
        sent = "nothing was waiting to be sent" if progress is None else f"first send after {progress:.1f}s"
        self._say(f"  recovered: {victim.nodename} rejoined after {rejoined:.1f}s, every replica ready after "
                  f"{took:.1f}s; {sent}")  # fmt: skip

    async def _sends_pending(self, *, timeout: float = 30.0) -> bool:
        """Wait (at most `timeout`) until notify has sends pending, so the node goes away under load; whether it did."""
        database = checks.Database(self._stack.database_url)

        async def pending() -> bool:
            with contextlib.suppress(Exception):
                counts = await database.pending()
                return bool(counts["notifications"] or counts["invitations"])
            return False

        try:
            await eventually(pending, timeout=timeout, interval=0.5, what="sends pending")
        except AssertionError:
            self._say(f"  nothing pending to send after {timeout:g}s: the node goes away on an idle system")
            return False
        return True

    async def _progress_after(self, began: float, *, limit: float = MAX_RECOVERY_SECONDS) -> float | None:
        """Seconds from `began` until the provider accepted another send: the system made progress during or
        after the node's outage. None if nothing was waiting to be sent then, or nothing was within `limit`."""
        stub = self._stack.stub
        try:
            baseline = int((await stub.stats())["recorded"])
            pending = await checks.Database(self._stack.database_url).pending()
        except Exception:  # the database may be restarting: no measurement rather than a failed fault
            return None
        if not (pending["notifications"] or pending["invitations"]):
            return None
        while time.monotonic() - began < limit:
            await asyncio.sleep(0.25)  # polling the stub's count: a measurement, not synchronisation
            with contextlib.suppress(Exception):
                if int((await stub.stats())["recorded"]) > baseline:
                    return round(time.monotonic() - began, 1)
        return None


def team_codes(run: str, teams: int) -> list[str]:
    return [f"CC{run[:6].upper()}{t}" for t in range(1, teams + 1)]


async def scenario(
    cs: ClusterStack, profile: ClusterProfile, args: argparse.Namespace, rng: random.Random
) -> dict[str, Any]:
    stack = cs.stack
    loop = asyncio.get_running_loop()
    run = uuid.uuid4().hex[:8]
    children = make_children(profile.base.children, run=run, nhs_start=rng.randrange(100_000_000, 800_000_000))
    clinic_day = london_today(SystemClock()) + timedelta(days=7)
    year = academic_year_of(clinic_day)
    database = checks.Database(stack.database_url)
    injector = ClusterInjector(cs, node_outage_seconds=args.node_outage_seconds, say=say)
    progress = Progress()
    teams = team_codes(run, profile.teams)
    clients = {ods: Client(stack.amqp_url) for ods in teams}
    for ods in teams:
        await set_up_team(clients[ods], ods, clinic_day, year)
    members = await asyncio.to_thread(cs.quorum_members)
    say(
        f"teams {', '.join(teams)}, clinic on {clinic_day}; "
        f"{len(members)} quorum queues, members per queue {sorted(set(members.values()))}"
    )
    await stack.stub.control(
        "POST", "faults", provider_faults(args.provider_fault_rate, timeout_seconds=args.provider_timeout_seconds)
    )
    plan = plan_for(profile, list(stack.processes), rng, postgres_restarts=args.postgres_restarts)
    say(
        f"{len(plan)} faults planned over {profile.base.window:.0f}s {node_fault_count(plan)}, "
        "plus a cohort kill mid-commit per team"
    )
    started = loop.time()
    faulting = asyncio.create_task(injector.run(plan, started))
    parts = dict(zip(teams, split(children, profile.teams), strict=True))
    imports = {ods: [ImportPlan(n, uuid.uuid4(), p) for n, p in enumerate(split(part, profile.base.imports), 1)]
               for ods, part in parts.items()}  # fmt: skip
    working = {
        ods: asyncio.create_task(
            workload(
                clients[ods],
                ods,
                year,
                imports[ods],
                injector,
                database,
                progress,
                profile.base,
                started,
                spread=IMPORT_SPREAD,
            )
        )
        for ods in teams
    }
    watching = asyncio.create_task(report_progress(stack, database, injector, progress, len(children) * 2))
    errors: list[str] = []
    for name, task in [*((f"workload {ods}", t) for ods, t in working.items()), ("fault injector", faulting)]:
        try:
            await task
        except Exception as exc:
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
            say(f"the {errors[-1]}")
    await stack.stub.control("POST", "faults", {"probabilistic": None})
    say("every fault injected; provider faults off; waiting for the system to go quiet")
    quiet = await wait_quiet(stack, database, profile.base.quiesce_timeout)
    watching.cancel()
    retries = sum(c.retries for c in clients.values())
    for client in clients.values():
        await client.close()
    results = await verdict(stack, database, children, [], injector, quiet, errors, retries)
    left = await asyncio.to_thread(cs.messages_left)
    ready = results["services_ready"]
    replicas = {s: sum(1 for name, ok in ready.items() if ok and name.rsplit("-", 1)[0] == s) for s in SERVICES}
    node_restarts = sum(injector.node_restarts.values())
    slowest = max((r["seconds"] for r in injector.recoveries), default=0.0)
    problems = cluster_problems(
        replicas=replicas, node_restarts=dict(injector.node_restarts), stuck=sum(left.values()), slowest=slowest
    )
    results.update(
        ok=results["ok"] and not problems,
        problems=problems,
        teams=len(teams),
        replicas=replicas,
        node_restarts=node_restarts,
        node_restarts_by_kind=dict(injector.node_restarts),
        slowest_recovery_s=slowest,
        recoveries=injector.recoveries,
        stuck=sum(left.values()),
        stuck_by_queue=left,
        quorum_queue_members=dict(Counter(members.values())),
        quorum_queue_members_end=dict(Counter((await asyncio.to_thread(cs.quorum_members)).values())),
        cluster_nodes=[n.nodename for n in cs.cluster.nodes],
    )
    return results


def cluster_problems(
    *, replicas: dict[str, int], node_restarts: dict[str, int], stuck: int, slowest: float
) -> list[str]:
    """What fails the run besides chaos.run's verdict (lost, duplicates, dead letters, fault kinds, readiness)."""
    problems = [f"{s} has {n} replicas ready, not {REPLICAS}" for s, n in replicas.items() if n != REPLICAS]
    if sum(node_restarts.values()) < MIN_NODE_RESTARTS:
        problems.append(f"{sum(node_restarts.values())} node restarts, fewer than {MIN_NODE_RESTARTS}")
    if not node_restarts.get(str(FaultKind.NODE_KILL)):
        problems.append("no node was restarted by kill -9")
    if stuck:
        problems.append(f"{stuck} messages left in queues")
    if slowest > MAX_RECOVERY_SECONDS:
        problems.append(f"slowest recovery {slowest:.1f}s, over {MAX_RECOVERY_SECONDS:g}s")
    return problems


def print_summary(results: dict[str, Any]) -> None:
    say("results")
    for key in ("expected", "delivered", "lost", "duplicates", "extra_sends", "unexpected", "misaddressed", "stuck"):
        print(f"  {key:<22}{results[key]:>8}")
    print(f"  {'kills':<22}{results['kills']:>8}  {results['kills_by_process']}")
    print(f"  {'node restarts':<22}{results['node_restarts']:>8}  {results['node_restarts_by_kind']}")
    print(f"  {'postgres restarts':<22}{results['restarts']['postgres']:>8}")
    print(f"  {'slowest recovery':<22}{results['slowest_recovery_s']:>7.1f}s")
    print(f"  {'replicas':<22}{results['replicas']}")
    print(f"  {'quorum queue members':<22}{results['quorum_queue_members']}")
    print(f"  {'provider faults':<22}{results['provider_faults']}")
    print(f"  {'crashes':<22}{results['crashes']}")
    for key in ("problems", "missing_fault_kinds", "errors"):
        if results[key]:
            print(f"  {key}: {results[key]}")
    if results["dead_letters"]["problems"]:
        print(f"  dead letters: {results['dead_letters']['problems'][:5]}")
    if results["lost_by_notify_status"]:
        print(f"  lost, by notify's status: {results['lost_by_notify_status']}")
    print(f"  {'verdict':<22}{'PASS' if results['ok'] else 'FAIL'}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    # A dropped connection when a node dies is the point of the run; the clients reconnect and retry.
    logging.getLogger("aiormq").setLevel(logging.CRITICAL)
    logging.getLogger("aio_pika.tools").setLevel(logging.CRITICAL)
    profile = profile_of(args)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="cluster-chaos-logs-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    say(
        f"cluster chaos: {profile.base.children} children, {profile.teams} teams x {profile.base.imports} imports, "
        f"{REPLICAS} replicas each, {profile.base.kills} kills, {profile.node_restarts} node restarts "
        f"({profile.node_kills} by kill -9), seed {seed}; logs in {log_dir}"
    )
    with ExitStack() as resources:
        cs = resources.enter_context(
            open_cluster_stack(
                resources,
                log_dir=log_dir,
                seed=seed,
                replicas=REPLICAS,
                stale_seconds=args.stale_seconds,
                postpone_seconds=args.postpone_seconds,
            )
        )
        say(f"stack ready: {', '.join(cs.stack.processes)} and the Notify stub")
        results = asyncio.run(scenario(cs, profile, args, rng))
        results.update(seed=seed, profile="quick" if args.quick else "full", seconds=round(time.monotonic() - began))
        args.results.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print_summary(results)
    say(f"wrote {args.results} ({results['seconds']}s)")
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
