"""`python -m chaos.run [--quick]`: the fault suite. Prints its counts, writes chaos-results.json.

The four services run as processes (notify twice) against the local RabbitMQ and PostgreSQL and the
loopback GOV.UK Notify stub. Children join a clinic cohort that is due now, in several CSV imports,
while processes are SIGKILLed and restarted, RabbitMQ and PostgreSQL restart, and the provider
answers 500, 429, times out or drops the connection after accepting. When everything has gone quiet,
every (child, parent, channel, message kind) is counted: sent once, lost, or sent more than once.
Exit status 1 if anything was lost or duplicated, a service is not ready, a dead-letter queue holds
anything but the malformed messages sent on purpose, or a promised fault kind was not injected.
"""

from __future__ import annotations

import argparse
import random
import sys
import uuid
from datetime import timedelta
from typing import Any

from chaos import checks
from chaos.faults import Injector
from chaos.plan import plan_faults, provider_faults
from chaos.stack import Stack, open_plain
from chaos.suite import Profile, Team, drive, parser, profile_of, provider_timing, run_suite, say
from chaos.verdict import print_counts, print_verdict, verdict
from chaos.workload import Client, ImportPlan, make_children, set_up_team, split
from msgkit.clock import SystemClock, academic_year_of, london_today

FULL = Profile(children=10_000, imports=5, kills=22, window=400.0, quiesce_timeout=900.0)
QUICK = Profile(children=1_000, imports=4, kills=6, window=60.0, quiesce_timeout=420.0)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = parser(
        "python -m chaos.run", __doc__, quick="about 1,000 children and a few kills (CI)", results="chaos-results.json"
    )
    p.add_argument("--rabbitmq-restarts", type=int, default=1)
    p.add_argument("--outage-seconds", type=float, default=3.0, help="how long RabbitMQ stays stopped")
    return p.parse_args(argv)


async def scenario(stack: Stack, profile: Profile, args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    children = make_children(profile.children, run=run, nhs_start=rng.randrange(90_000_000))
    ods = "CH" + run[:6].upper()
    clinic_day = london_today(SystemClock()) + timedelta(days=7)
    year = academic_year_of(clinic_day)
    client = Client(stack.amqp_url)
    injector = Injector(stack, outage_seconds=args.outage_seconds, say=say)
    await set_up_team(client, ods, clinic_day, year)
    malformed = checks.malformed_messages()
    await checks.publish_malformed(stack.amqp_url, malformed)
    say(f"team {ods}, clinic on {clinic_day}; {len(malformed)} malformed messages published to be dead-lettered")
    await stack.stub.set_faults(
        provider_faults(
            args.provider_fault_rate,
            timeout_seconds=args.provider_timeout_seconds,
            late_seconds=provider_timing(args)[0],
        )
    )
    plan = plan_faults(
        rng,
        targets=list(stack.processes),
        kills=profile.kills - 1,
        start=2.0,
        end=profile.window,
        rabbitmq_restarts=args.rabbitmq_restarts,
        postgres_restarts=args.postgres_restarts,
    )
    say(f"{len(plan)} faults planned over {profile.window:.0f}s, plus one kill of cohort mid-commit")
    imports = [ImportPlan(n, uuid.uuid4(), part) for n, part in enumerate(split(children, profile.imports), 1)]
    team = Team(ods, year, client, imports)
    outcome = await drive(stack, injector, plan, {ods: team}, profile, expected=len(children) * 2)
    return await verdict(stack, children, malformed, injector, outcome)


def print_summary(results: dict[str, Any]) -> None:
    print_counts(results)
    print(f"  {'mid-commit kills':<22}{results['mid_commit_kills']:>8}")
    print(f"  {'restarts':<22}{results['restarts']}")
    print(f"  {'provider faults':<22}{results['provider_faults']}")
    print(f"  {'crashes':<22}{results['crashes']}")
    print(f"  {'services ready':<22}{results['services_ready']}")
    print(f"  {'dead letters':<22}{results['dead_letters']['found']} problems: {results['dead_letters']['problems']}")
    if results["missing_fault_kinds"]:
        print(f"  fault kinds NOT injected: {results['missing_fault_kinds']}")
    if results["errors"]:
        print(f"  errors: {results['errors']}")
    print_verdict(results)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    profile = profile_of(args, QUICK if args.quick else FULL)
    size = f"{profile.children} children in {profile.imports} imports, {profile.kills} kills"
    return run_suite(
        args,
        name="chaos",
        describe=f"chaos: {size}",
        open_stack=open_plain,
        scenario=lambda stack, rng: scenario(stack, profile, args, rng),
        print_summary=print_summary,
    )


if __name__ == "__main__":
    sys.exit(main())
