"""`python -m bench.scale_queries [--children N] [--teams T]`: the staff queries' latency at national size.

The cohort is seeded straight into the tables (bench.scale_seed: a million children in minutes, where the
message flow would take hours), then the cohort service runs as its own process and every query is asked
`samples` times over RabbitMQ exactly as `clinics` asks it: `children list` with each filter on page 1
and on a late page (keyset: after a cursor 90 % of the way through the team's list), `children find` by
NHS number and by last name, `invitations preview` of a school session, and a child's activity log.
Each sample asks about another team, child or session, so no answer is the previous one served again.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import date
from typing import Any

from faststream.rabbit import RabbitBroker

from bench import scale_seed
from bench.figures import percentile, table
from bench.stack import RUN_DIR, admin_dsn, world
from bench.workload import connect, log
from clinics_admin.bootstrap import ensure_roles
from contracts import cohort
from contracts.common import Programme
from contracts.envelope import Message
from msgkit import rpc
from msgkit.clock import academic_year_of
from testkit.servers import postgres_server, rabbitmq_server
from testkit.stack import World, open_stack
from testkit.stack import migrate as migrate_schemas

FILTERS = list(cohort.ClinicChildrenFilter)
LATE = 0.9  # where the late page starts, as a share of the team's list
WARM_UP = 3


def migrate(database_url: str) -> None:
    """Roles and cohort's schema at head (a no-op on a database bench.stack.world already migrated)."""
    asyncio.run(ensure_roles(database_url))
    migrate_schemas(database_url, ("cohort",))


def run(the_world: World, *, children: int, teams: int, samples: int = 50, seed: int = 1) -> dict[str, Any]:
    """Seed `children` over `teams`, start cohort, and time `samples` requests of each staff query."""
    migrate(the_world.database_url)
    plan = scale_seed.Plan(children, teams, seed, academic_year_of(date.today()))
    log("queries", f"seeding {children:,} children over {teams} teams")
    seeded = asyncio.run(scale_seed.seed(admin_dsn(the_world.database_url), plan))
    log("queries", f"seeded in {seeded.seconds:.0f} s: {seeded.rows}")
    log_dir = RUN_DIR / "scale-queries"
    with open_stack(the_world, log_dir=log_dir, replicas={"cohort": 1}, stub=None, migrated=True):
        timings = asyncio.run(_measure(the_world.amqp_url, seeded, samples))
    queries = {name: {"service": _summary(ms)} for name, ms in timings.items()}
    return {"children": children, "teams": teams, "seed_s": seeded.seconds, "rows": seeded.rows, "queries": queries}


def _summary(ms: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "max_ms": round(max(ms), 1),
        "samples": len(ms),
    }


async def _measure(amqp_url: str, seeded: scale_seed.Seeded, samples: int) -> dict[str, list[float]]:
    client = await connect(amqp_url)
    try:
        asks = await _queries(client, seeded)
        found: dict[str, list[float]] = {}
        for name, make in asks.items():
            for _ in range(WARM_UP):
                await _ask(client, make())
            found[name] = [await _timed(client, make()) for _ in range(samples)]
            log("queries", f"{name}: p95 {percentile(found[name], 95):.1f} ms")
        return found
    finally:
        await client.stop()


async def _queries(client: RabbitBroker, seeded: scale_seed.Seeded) -> dict[str, Callable[[], Message]]:
    """Each query's next request; list queries go round the teams, the others round sampled children."""
    plan = seeded.plan
    teams = [scale_seed.team_ods(t) for t in range(plan.teams)]

    def listing(filter_: cohort.ClinicChildrenFilter, after: dict[str, str | None] | None) -> Callable[[], Message]:
        team = itertools.cycle(teams)

        def make() -> Message:
            ods = next(team)
            return cohort.ListClinicChildren(
                team_ods=ods, programme=Programme.FLU, academic_year=plan.academic_year, filter=filter_,
                after=after[ods] if after else None,
            )  # fmt: skip

        return make

    asks: dict[str, Callable[[], Message]] = {}
    for f in FILTERS:
        asks[f"list_{f.value}_page1"] = listing(f, None)
        asks[f"list_{f.value}_late"] = listing(f, await _late_cursors(client, teams, f, plan.academic_year))
    nhs, names = itertools.cycle(seeded.nhs_numbers), itertools.cycle(seeded.last_names)
    asks["find_nhs_number"] = lambda: cohort.FindChildren(team_ods=(n := next(nhs))[0], nhs_number=n[1])
    asks["find_last_name"] = lambda: cohort.FindChildren(team_ods=(n := next(names))[0], last_name=n[1])
    sessions, logged = itertools.cycle(seeded.sessions), itertools.cycle(seeded.logged)
    asks["invitations_preview"] = lambda: cohort.PreviewClinicInvitations(session_id=next(sessions))
    asks["activity_log"] = lambda: cohort.GetActivityLog(child_id=next(logged))
    return asks


async def _late_cursors(
    client: RabbitBroker, teams: list[str], filter_: cohort.ClinicChildrenFilter, year: int
) -> dict[str, str | None]:
    """Per team, the cursor of the page 90 % of the way through its list, found once by page number."""
    cursors: dict[str, str | None] = {}
    for ods in teams:
        base = cohort.ListClinicChildren(team_ods=ods, programme=Programme.FLU, academic_year=year, filter=filter_)
        total = int((await _ask(client, base))["total"])
        page = max(1, int(total * LATE) // base.page_size)
        data = await _ask(client, base.model_copy(update={"page": page}))
        cursors[ods] = data.get("next_cursor")
    return cursors


async def _ask(client: RabbitBroker, message: Message) -> dict[str, Any]:
    reply = await rpc.request(client, message, timeout=120)
    if not reply.ok:
        raise RuntimeError(f"{type(message).__name__} refused: {reply.error}")
    return reply.data or {}


async def _timed(client: RabbitBroker, message: Message) -> float:
    began = time.perf_counter()
    await _ask(client, message)
    return (time.perf_counter() - began) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_queries", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args()
    with ExitStack() as exits:
        server_url = exits.enter_context(postgres_server(exits))
        rabbit = exits.enter_context(rabbitmq_server(exits))
        the_world = exits.enter_context(world(server_url, rabbit))
        found = run(the_world, children=args.children, teams=args.teams, samples=args.samples)
    rows = [
        (name, f"{q['service']['p50_ms']:.1f}", f"{q['service']['p95_ms']:.1f}", f"{q['service']['max_ms']:.1f}",
         "met" if q["service"]["p95_ms"] <= 200 else "MISSED")
        for name, q in found["queries"].items()
    ]  # fmt: skip
    print(f"\n{found['children']:,} children over {found['teams']} teams, seeded in {found['seed_s']:.0f} s")
    print(table(("query", "p50 ms", "p95 ms", "max ms", "p95 <= 200 ms"), rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
