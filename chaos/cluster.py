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
import logging
import random
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chaos.cluster_faults import MAX_RECOVERY_SECONDS, ClusterInjector
from chaos.cluster_stack import ClusterStack, open_cluster_stack
from chaos.plan import Fault, FaultKind, node_fault_count, plan_cluster_faults, provider_faults
from chaos.stack import StackOptions
from chaos.suite import Profile, Team, drive, parser, profile_of, provider_timing, run_suite, say
from chaos.verdict import print_counts, print_verdict, verdict
from chaos.workload import Client, ImportPlan, make_children, set_up_team, split
from contracts.topology import SERVICES
from msgkit.clock import SystemClock, academic_year_of, london_today

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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    quick = "600 children, 3 node restarts, a short window (CI)"
    p = parser("python -m chaos.cluster", __doc__, quick=quick, results="cluster-chaos-results.json")
    p.add_argument("--teams", type=int)
    p.add_argument("--node-stops", type=int)
    p.add_argument("--node-kills", type=int, help="node restarts by kill -9")
    p.add_argument("--node-outage-seconds", type=float, default=5.0, help="how long a node stays down")
    return p.parse_args(argv)


def cluster_profile_of(args: argparse.Namespace) -> ClusterProfile:
    base = QUICK if args.quick else FULL
    return ClusterProfile(
        profile_of(args, base.base),
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


def team_codes(run: str, teams: int) -> list[str]:
    return [f"CC{run[:6].upper()}{t}" for t in range(1, teams + 1)]


def teams_of(stack: ClusterStack, profile: ClusterProfile, children: list[Any], run: str, year: int) -> dict[str, Team]:
    """Each team's share of the children, in imports spread over IMPORT_SPREAD of the window, its own client."""
    codes = team_codes(run, profile.teams)
    parts = dict(zip(codes, split(children, profile.teams), strict=True))
    return {
        ods: Team(
            ods,
            year,
            Client(stack.stack.amqp_url),
            [ImportPlan(n, uuid.uuid4(), p) for n, p in enumerate(split(part, profile.base.imports), 1)],
            spread=IMPORT_SPREAD,
        )
        for ods, part in parts.items()
    }


async def scenario(
    cs: ClusterStack, profile: ClusterProfile, args: argparse.Namespace, rng: random.Random
) -> dict[str, Any]:
    stack, run = cs.stack, uuid.uuid4().hex[:8]
    children = make_children(profile.base.children, run=run, nhs_start=rng.randrange(90_000_000))
    clinic_day = london_today(SystemClock()) + timedelta(days=7)
    teams = teams_of(cs, profile, children, run, academic_year_of(clinic_day))
    for ods, team in teams.items():
        await set_up_team(team.client, ods, clinic_day, team.year)
    members = await asyncio.to_thread(cs.quorum_members)
    say(
        f"teams {', '.join(teams)}, clinic on {clinic_day}; "
        f"{len(members)} quorum queues, members per queue {sorted(set(members.values()))}"
    )
    await stack.stub.set_faults(
        provider_faults(
            args.provider_fault_rate,
            timeout_seconds=args.provider_timeout_seconds,
            late_seconds=provider_timing(args)[0],
        )
    )
    plan = plan_for(profile, list(stack.processes), rng, postgres_restarts=args.postgres_restarts)
    say(
        f"{len(plan)} faults planned over {profile.base.window:.0f}s {node_fault_count(plan)}, "
        "plus a cohort kill mid-commit per team"
    )
    injector = ClusterInjector(cs, node_outage_seconds=args.node_outage_seconds, say=say)
    outcome = await drive(stack, injector, plan, teams, profile.base, expected=len(children) * 2)
    results = await verdict(stack, children, [], injector, outcome)
    return results | await cluster_results(cs, injector, results, members, teams=len(teams))


async def cluster_results(
    cs: ClusterStack, injector: ClusterInjector, results: dict[str, Any], members: dict[str, int], *, teams: int
) -> dict[str, Any]:
    """What the cluster run adds to the common verdict: replicas, node restarts, recoveries, stuck messages."""
    left = await asyncio.to_thread(cs.messages_left)
    ready = results["services_ready"]
    replicas = {s: sum(1 for name, ok in ready.items() if ok and name.rsplit("-", 1)[0] == s) for s in SERVICES}
    slowest = max((r["seconds"] for r in injector.recoveries), default=0.0)
    problems = cluster_problems(
        replicas=replicas, node_restarts=dict(injector.node_restarts), stuck=sum(left.values()), slowest=slowest
    )
    return {
        "ok": results["ok"] and not problems,
        "problems": problems,
        "teams": teams,
        "replicas": replicas,
        "node_restarts": sum(injector.node_restarts.values()),
        "node_restarts_by_kind": dict(injector.node_restarts),
        "slowest_recovery_s": slowest,
        "recoveries": injector.recoveries,
        "stuck": sum(left.values()),
        "stuck_by_queue": left,
        "quorum_queue_members": dict(Counter(members.values())),
        "quorum_queue_members_end": dict(Counter((await asyncio.to_thread(cs.quorum_members)).values())),
        "cluster_nodes": [n.nodename for n in cs.cluster.nodes],
    }


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
    print_counts(results, "stuck")
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
    print_verdict(results)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # A dropped connection when a node dies is the point of the run; the clients reconnect and retry.
    logging.getLogger("aiormq").setLevel(logging.CRITICAL)
    logging.getLogger("aio_pika.tools").setLevel(logging.CRITICAL)
    profile = cluster_profile_of(args)

    def open_stack(resources: Any, options: StackOptions) -> ClusterStack:
        return open_cluster_stack(resources, options, replicas=REPLICAS)

    return run_suite(
        args,
        name="cluster-chaos",
        describe=(
            f"cluster chaos: {profile.base.children} children, {profile.teams} teams x {profile.base.imports} "
            f"imports, {REPLICAS} replicas each, {profile.base.kills} kills, {profile.node_restarts} node restarts "
            f"({profile.node_kills} by kill -9)"
        ),
        open_stack=open_stack,
        scenario=lambda cs, rng: scenario(cs, profile, args, rng),
        print_summary=print_summary,
    )


if __name__ == "__main__":
    sys.exit(main())
