"""Re-timing at scale: one team's unsent invitations re-timed when staff move its clinic dates.

On a running bench stack (with whatever is already in its database: the national curve's million
children, in `python -m bench.scale`), a new team gets a clinic weeks away and imports `children`
children, so as many invitations are scheduled and none is due. Staff then move the clinic a week
later (SetClinicDates to sessions, as the `clinics` command does); the clock runs from that request
until every one of the team's invitations carries the new due time in notify's database.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from bench import workload as w
from bench.phases import team_with_clinic
from bench.stack import Stack, admin_dsn
from msgkit.clock import SystemClock, london_today

# Weeks away, and days_before 0: every invitation is due on the clinic day, never while this runs.
CLINIC_DAYS_AWAY = 35
MOVED_BY_DAYS = 7
# Children's seeds far above the curve's (which count up from 0), so no NHS number is reused.
SEED_BASE = 20_000_000


async def _on_day(db: w.Database, ods: str, day: date) -> int:
    """The team's unsent invitations due on `day` (London): the team's window opens at midnight."""
    return await db.count(
        "SELECT count(*) FROM notify.invitations WHERE team_ods = $1 AND status IN ('waiting', 'scheduled')"
        " AND CAST(due_at AT TIME ZONE 'Europe/London' AS date) = $2",
        ods,
        day,
    )


async def retime(stack: Stack, children: int) -> dict[str, Any]:
    phase = "retime"
    client, db = await w.connect(stack.amqp_url), await w.Database.connect(admin_dsn(stack.database_url))
    try:
        ods, year = await team_with_clinic(client, db, days_before=0, offset=CLINIC_DAYS_AWAY, phase=phase)
        today = london_today(SystemClock())
        first, _ = w.day_and_year(today, CLINIC_DAYS_AWAY)
        moved, moved_year = w.day_and_year(today, CLINIC_DAYS_AWAY + MOVED_BY_DAYS)
        if moved_year != year:
            moved, _ = w.day_and_year(today, CLINIC_DAYS_AWAY - MOVED_BY_DAYS)  # stay in the academic year
        in_database = await db.count("SELECT count(*) FROM notify.invitations")
        rows = w.rows(children, urn=w.HOME_EDUCATED, start=SEED_BASE + in_database)
        await w.import_cohort(client, ods, rows, year=year, phase=phase)
        await w.wait_count(
            lambda: _on_day(db, ods, first), children, timeout=1800, what="invitations scheduled", phase=phase
        )
        w.log(phase, f"{children:,} invitations due {first}; moving the clinic to {moved}: the clock starts")
        started = time.perf_counter()
        await w.set_clinic(client, ods, moved, year)
        done = await w.wait_count(
            lambda: _on_day(db, ods, moved), children, timeout=600, what="invitations re-timed", phase=phase,
            interval=0.02,
        )  # fmt: skip
        left = await _on_day(db, ods, first)
    finally:
        await db.close()
        await client.stop()
    if left:
        raise RuntimeError(f"{left:,} invitations still carry the old due time")
    seconds = done - started
    w.log(phase, f"{children:,} invitations re-timed in {seconds:.2f}s")
    return {
        "retime_seconds": round(seconds, 3),
        "retime_children": children,
        "retime_per_s": round(children / seconds, 1),
        "retime_invitations_in_database": in_database + children,
    }


def main() -> int:
    """`python -m bench.scale_retime [--children N ...]`: the measurement alone, on a stack of its own."""
    import argparse
    import asyncio
    from contextlib import ExitStack

    from bench.stack import stack, world
    from msgkit.testing import postgres_server, rabbitmq_server

    parser = argparse.ArgumentParser(prog="python -m bench.scale_retime", description=main.__doc__)
    parser.add_argument("--children", type=int, nargs="+", default=[10_000, 100_000], help="one team per size")
    args = parser.parse_args()
    results = []
    with ExitStack() as exits:
        server_url = exits.enter_context(postgres_server(exits))
        the_world = exits.enter_context(world(server_url, exits.enter_context(rabbitmq_server(exits))))
        with stack("retime", the_world) as st:
            for size in args.children:
                results.append(asyncio.run(retime(st, size)))
    for r in results:
        print(f"{r['retime_children']:>9,} invitations re-timed in {r['retime_seconds']:6.2f} s "
              f"({r['retime_per_s']:,.0f}/s; {r['retime_invitations_in_database']:,} in the database)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
