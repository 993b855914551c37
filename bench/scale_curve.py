"""The national curve: cohorts imported until a million children are in the database, through the real stack.

Teams import one after another (then three at once), each with its clinic dates set, so every child's
invitation is scheduled (none due: a clinic weeks away and days_before 0). The rate of each import is its
children over the time from its commit to its last invitation scheduled in notify, the cohort phase's
measure; the curve reads it at the import that brings the database to 10,000, 100,000 and 1,000,000.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench import workload as w
from bench.cpu import CpuMeter
from bench.phases import CLINIC_IN_DAYS, team_with_clinic
from bench.stack import admin_dsn
from contracts.common import URN_HOME_EDUCATED
from testkit.stack import Stack

# Far enough that no invitation is due while the curve runs (days_before is 0).
CLINIC_DAYS_AWAY = CLINIC_IN_DAYS


@dataclass(frozen=True, slots=True)
class Step:
    """Teams imported at once: their sizes, and the database size the curve reads them at (if any)."""

    sizes: tuple[int, ...]
    reads: str | None = None


# 10,000 (an empty database), then 100,000 (one team), then teams one by one and three at once, up to a
# million, and a last single team read at a million.
FULL: tuple[Step, ...] = (
    Step((10_000,), "10k"),
    Step((100_000,), "100k"),
    *(Step((100_000,)) for _ in range(5)),
    Step((100_000, 100_000, 100_000), "3_at_once"),
    Step((100_000,), "1M"),
)
QUICK: tuple[Step, ...] = (Step((2_000,), "10k"), Step((10_000,), "100k"), Step((10_000, 10_000, 10_000), "3_at_once"),
                           Step((10_000,), "1M"))  # fmt: skip


@dataclass
class Team:
    ods: str
    year: int
    size: int
    start: int  # its children's seeds, distinct across teams


async def run_curve(stack: Stack, steps: Sequence[Step], cpu: CpuMeter | None = None) -> dict[str, Any]:
    """Import every step's teams; returns the rate per step, the rates the curve reads, and the teams."""
    client, db = await w.connect(stack.amqp_url), await w.Database.connect(admin_dsn(stack.database_url))
    rates: dict[str, float] = {}
    log: list[dict[str, Any]] = []
    teams: list[Team] = []
    children = 0
    try:
        # Production runs autovacuum (PostgreSQL's default); a server with it off (as CI's here) never
        # refreshes the planner's statistics, and plans made for empty tables then grow with the tables.
        analyze = await db.conn.fetchval("SHOW autovacuum") != "on"
        if analyze:
            w.log("scale", "autovacuum is off on this server: ANALYZE after each step, as autovacuum would")
        for number, step in enumerate(steps, start=1):
            batch: list[Team] = []
            for size in step.sizes:
                ods, year = await team_with_clinic(client, db, days_before=0, offset=CLINIC_DAYS_AWAY, phase="scale")
                batch.append(Team(ods, year, size, start=children + sum(t.size for t in batch)))
            if cpu is not None:
                cpu.start()
            took = await _import_at_once(client, db, batch, phase=f"scale {number}/{len(steps)}")
            # CPU per child shows whether the cost grows with the database, whatever else the machine runs.
            used = cpu.used() if cpu is not None else {}
            size = sum(t.size for t in batch)
            children += size
            teams += batch
            rate = size / took
            log.append({"teams": len(batch), "children": size, "in_database": children, "seconds": round(took, 2),
                        "invitations_per_s": round(rate, 1),
                        "cpu_us_per_child": {k: round(v * 1e6 / size) for k, v in used.items()}})  # fmt: skip
            w.log("scale", f"{children:,} children in the database; this step {rate:,.0f} invitations/s, CPU µs "
                           f"per child {log[-1]['cpu_us_per_child']}")  # fmt: skip
            if step.reads:
                rates[step.reads] = round(rate, 1)
            if analyze:
                await db.conn.execute("ANALYZE")
    finally:
        await db.close()
        await client.stop()
    return {"children": children, "rates": rates, "steps": log, "teams": teams, "analyzed_between_steps": analyze}


async def _import_at_once(client: Any, db: w.Database, teams: list[Team], *, phase: str) -> float:
    """Stage each team's rows, then commit them all at once; seconds until every invitation is scheduled."""
    staged = []
    for team in teams:
        rows = w.rows(team.size, urn=URN_HOME_EDUCATED, start=team.start)
        staged.append(await w.stage(client, team.ods, rows, phase=phase))
    started = time.perf_counter()
    commits = [
        asyncio.create_task(w.commit(client, t.ods, import_id, year=t.year))
        for t, import_id in zip(teams, staged, strict=True)
    ]

    async def scheduled() -> int:
        return sum([await db.scheduled(t.ods) for t in teams])

    done = await w.wait_count(scheduled, sum(t.size for t in teams), timeout=3600, what="invitations scheduled",
                              phase=phase, every=10.0)  # fmt: skip
    for result, team in zip(await asyncio.gather(*commits), teams, strict=True):
        if result.get("joined_clinic") != team.size:
            raise RuntimeError(f"team {team.ods}: expected {team.size:,} joins, the import said {result}")
    return done - started
