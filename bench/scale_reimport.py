"""A long-running service (issue 19, item 19): successive imports of one file into one team, one set of processes.

The same 100,000-row file imported ten times into one team, through the services as processes started once:
the first import creates the children, each later one matches all of them again. On a service that had run
for ~40 minutes a re-import's matching ran for over 15 minutes under a cached generic plan, where a fresh
service took seconds; each import here must take at most twice the first. It runs twice, on fresh processes
and a fresh team each time: with autovacuum off for every table of the run's database (CI's server has it
off: nothing is ever analysed) and then on (as the server has it: `server_autovacuum` says which).

`python -m bench.scale_reimport [--imports 10] [--rows 2000]` runs it alone, on DATABASE_URL's and
RABBITMQ_URL's servers (a fresh database and vhost); `make scale` runs it as its `reimport` part.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

from bench import workload as w
from bench.figures import table
from bench.phases import CLINIC_IN_DAYS, team_with_clinic
from bench.runner import Run, Servers, run
from bench.stack import admin_dsn, quiet, stack, world
from contracts.common import URN_HOME_EDUCATED
from contracts.topology import SERVICES
from testkit.data import A_SCHOOL
from testkit.stack import World

RESULTS = Path("scale-reimport-results.json")
# Each import within this many times the first.
SLOWDOWN_LIMIT = 2.0


async def _autovacuum(database_url: str, *, on: bool) -> str:
    """Switch autovacuum off for every table of the run's database (or back to the server's choice); returns
    the server's own setting. The run's database is its own: the server's setting is never touched."""
    db = await w.Database.connect(admin_dsn(database_url))
    try:
        schemas = list(SERVICES)
        tables = await db.conn.fetch("SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY($1)", schemas)
        change = "RESET (autovacuum_enabled)" if on else "SET (autovacuum_enabled = false)"
        for t in tables:
            await db.conn.execute(f'ALTER TABLE "{t["schemaname"]}"."{t["tablename"]}" {change}')
        return str(await db.conn.fetchval("SHOW autovacuum"))
    finally:
        await db.close()


def _file(rows: int) -> list[list[str]]:
    """Half the children home-educated (each import tries their joins again), half at a school (matched only)."""
    half = rows // 2
    return w.rows(half, urn=URN_HOME_EDUCATED, start=0) + w.rows(rows - half, urn=A_SCHOOL, start=half)


def _imports(the_world: World, *, imports: int, rows: int, phase: str) -> dict[str, Any]:
    with stack(phase, the_world) as st:
        seconds, commits = asyncio.run(_import_again_and_again(st.amqp_url, st.database_url, imports, rows, phase))
        asyncio.run(quiet(the_world))
    worst = max(seconds[1:], default=seconds[0]) / seconds[0]
    return {"seconds": seconds, "commit_seconds": commits, "worst_vs_first": round(worst, 2)}


async def _import_again_and_again(
    amqp_url: str, database_url: str, imports: int, rows: int, phase: str
) -> tuple[list[float], list[float]]:
    """Seconds of each import (staging and commit), and of its commit alone."""
    client, db = await w.connect(amqp_url), await w.Database.connect(admin_dsn(database_url))
    try:
        ods, year = await team_with_clinic(client, db, days_before=0, offset=CLINIC_IN_DAYS, phase=phase)
        cells, seconds, commits = _file(rows), [], []
        for number in range(1, imports + 1):
            started = time.perf_counter()
            import_id = await w.stage(client, ods, cells, phase=f"{phase} {number}/{imports}")
            committing = time.perf_counter()
            result = await w.commit(client, ods, import_id, year=year)
            seconds.append(round(time.perf_counter() - started, 2))
            commits.append(round(time.perf_counter() - committing, 2))
            expected = rows if number == 1 else 0
            if result.get("children_created") != expected or result.get("needs_review"):
                raise RuntimeError(f"import {number}: expected {expected:,} new children, the import said {result}")
            w.log(phase, f"import {number}/{imports}: {seconds[-1]:.1f} s ({commits[-1]:.1f} s committing)")
        return seconds, commits
    finally:
        await db.close()
        await client.stop()


def reimport(the_world: World, *, imports: int, rows: int) -> dict[str, Any]:
    """Both rounds (autovacuum off, then on); the figures of each, and the worst slowdown of any."""
    found: dict[str, Any] = {"reimport_rows": rows, "reimport_imports": imports}
    for on in (False, True):
        label = "autovacuum_on" if on else "autovacuum_off"
        server = asyncio.run(_autovacuum(the_world.database_url, on=on))
        w.log("reimport", f"{imports} imports of {rows:,} rows, {label} (the server's autovacuum: {server})")
        found[label] = _imports(the_world, imports=imports, rows=rows, phase=f"reimport {label}")
        found["server_autovacuum"] = server
    found["reimport_worst_vs_first"] = max(found[k]["worst_vs_first"] for k in ("autovacuum_off", "autovacuum_on"))
    return found


def verdicts(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The rows `bench.scale`'s table shows for this step."""
    rows = []
    for label in ("autovacuum_off", "autovacuum_on"):
        figures = r.get(label) or {}
        seconds = figures.get("seconds", [])
        worst = figures.get("worst_vs_first")
        shown = f"{seconds[0]:.1f} s first, slowest {max(seconds):.1f} s ({worst} ×)" if seconds else "—"
        met = worst is not None and worst <= SLOWDOWN_LIMIT
        rows.append((f"{r.get('reimport_imports', 0)} imports of {r.get('reimport_rows', 0):,} rows, "
                     f"{label.replace('_', ' ')}", shown, f"each ≤ {SLOWDOWN_LIMIT:g} × the first",
                     "met" if met else "MISSED"))  # fmt: skip
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_reimport", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--imports", type=int, default=10, help="successive imports into one team (default 10)")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the file imported each time")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the figures (JSON)")
    args = parser.parse_args()

    def parts(servers: Servers, _: object) -> list[tuple[str, Any]]:
        return [("reimport", lambda: _in_world(servers, imports=args.imports, rows=args.rows))]

    report = partial(_report, written=args.results)
    return run(Run("scale-reimport", args.rows < 100_000, args.results, report), parts)


def _in_world(servers: Servers, *, imports: int, rows: int) -> dict[str, Any]:
    with world(servers.postgres, servers.rabbit) as the_world:
        return reimport(the_world, imports=imports, rows=rows)


def _report(results: dict[str, Any], written: Path) -> str:
    return table(("figure", "value", "target", "verdict"), verdicts(results)) + f"\n\nwrote {written}"


if __name__ == "__main__":
    sys.exit(main())
