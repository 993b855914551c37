"""`python -m bench.scale [--quick]`: the national load (issue 13), with its figures and verdicts.

1. The curve (bench.scale_curve): cohorts imported through the real stack until 1,000,000 children are in the
   database, one team after another and then three at once; invitations scheduled per second at 10,000,
   100,000 and 1,000,000, and each service's peak RSS.
2. Re-timing (bench.scale_retime), on the same stack with the million children in it: one more team's 100,000
   unsent invitations re-timed when its clinic dates move.
3. Staff queries (bench.scale_queries): p95 of each at 1,000,000 children, in a database seeded for them
   (consents, vaccinations, activity and school sessions in realistic shares, which the curve's imports lack).
4. Daily caps (bench.scale_daily): 2,000,000 messages due against one GOV.UK Notify service's 250,000-a-day
   email and SMS caps, with a clock the run moves: the days they take, caps exceeded, messages lost.
5. A long-running service (bench.scale_reimport): ten successive imports of one 100,000-row file into one
   team on one set of processes, autovacuum off and then on; each within 2 x the first.

Writes scale-results.json; exits 1 only if a part could not run (MISSED targets are printed).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import scale_curve, scale_daily, scale_queries, scale_reimport, scale_retime
from bench.cpu import CpuMeter
from bench.figures import table
from bench.runner import Part, Run, Servers, run
from bench.stack import postmaster, quiet, stack, world
from bench.workload import log
from testkit.stack import Stack, World

RESULTS = Path("scale-results.json")
RSS_LIMIT_MB = 150
QUERY_P95_LIMIT_MS = 200
RETIME_LIMIT_S = 10
# At 1,000,000 children the rate may fall at most this far below the rate at 100,000 (linear cost).
CURVE_TOLERANCE = 0.2


def _curve_and_retime(the_world: World, *, quick: bool, retime: bool) -> dict[str, Any]:
    with stack("scale", the_world) as st:
        pids = {n: p.process.pid for n, p in st.processes.items() if p.process is not None}
        master = asyncio.run(postmaster(the_world.database_url))
        cpu = CpuMeter(pids, postmaster=master, amqp_port=urlsplit(the_world.amqp_url).port or 5672)
        curve = asyncio.run(scale_curve.run_curve(st, scale_curve.QUICK if quick else scale_curve.FULL, cpu))
        found: dict[str, Any] = {
            "children": curve["children"],
            "invitations_per_s_by_size": curve["rates"],
            "curve_steps": curve["steps"],
            "curve_analyzed_between_steps": curve["analyzed_between_steps"],
            "curve_peak_rss_mb": st.peak_rss(),
        }
        if retime:
            log("scale", "re-timing one more team's invitations with the curve's children in the database")
            found |= asyncio.run(scale_retime.retime(st, 10_000 if quick else 100_000))
        found["rss_mb_max"] = st.peak_rss()
        found["dead_lettered"] = asyncio.run(quiet(the_world))
        _rss_over_time(st, found)
    return found


def _rss_over_time(st: Stack, found: dict[str, Any]) -> None:
    found["rss_mb_max_by_service"] = {
        s: max(v for name, v in found["rss_mb_max"].items() if st.processes[name].service == s)
        for s in {p.service for p in st.processes.values()}
    }


def _verdicts(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rates = r.get("invitations_per_s_by_size", {})
    at_100k, at_1m = rates.get("100k"), rates.get("1M")
    linear = at_100k is not None and at_1m is not None and at_1m >= (1 - CURVE_TOLERANCE) * at_100k
    rss = r.get("rss_mb_max_by_service", {})
    p95 = r.get("query_p95_ms", {})
    rows = [
        ("invitations/s at 10k / 100k / 1M", " / ".join(f"{rates.get(k, 0):,.0f}" for k in ("10k", "100k", "1M")),
         "1M within 20 % of 100k", "met" if linear else "MISSED"),
        ("  three teams at once", f"{rates.get('3_at_once', 0):,.0f}", "(reported)", "—"),
        ("peak RSS by service", ", ".join(f"{k} {v:.0f}" for k, v in sorted(rss.items())),
         f"≤ {RSS_LIMIT_MB} MB each", "met" if rss and max(rss.values()) <= RSS_LIMIT_MB else "MISSED"),
        (f"re-time {r.get('retime_children', 0):,} invitations", f"{r.get('retime_100k_s', 0):.1f} s",
         f"≤ {RETIME_LIMIT_S} s",
         "met" if r.get("retime_100k_s") is not None and r["retime_100k_s"] <= RETIME_LIMIT_S else "MISSED"),
        ("staff queries p95 (slowest)", f"{max(p95.values(), default=0):.0f} ms", f"≤ {QUERY_P95_LIMIT_MS} ms",
         "met" if p95 and max(p95.values()) <= QUERY_P95_LIMIT_MS else "MISSED"),
        (f"daily caps: days for {r.get('daily', {}).get('daily_sizes', {}).get('messages', 0):,}",
         str(r.get("daily_cap_days")), "(spread over days)", "—"),
        ("  days a cap was exceeded", str(r.get("daily_cap_exceeded")), "0",
         "met" if r.get("daily_cap_exceeded") == 0 else "MISSED"),
        ("  messages lost", str(r.get("lost")), "0", "met" if r.get("lost") == 0 else "MISSED"),
    ]  # fmt: skip
    rows += [(f"  {name}", f"{ms:.0f} ms", f"≤ {QUERY_P95_LIMIT_MS}", "met" if ms <= QUERY_P95_LIMIT_MS else "MISSED")
             for name, ms in sorted(p95.items())]  # fmt: skip
    if "reimport_rows" in r:
        rows += scale_reimport.verdicts(r)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few tens of thousands of children (CI)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the figures (JSON)")
    parser.add_argument("--only", nargs="*", default=None, help="some of: curve, retime, queries, daily, reimport")
    args = parser.parse_args()
    # Re-timing runs on the curve's stack, with the curve's million children in the database.
    retime = not args.only or "retime" in args.only

    def parts(servers: Servers, exits: ExitStack) -> Sequence[Part]:
        every: list[Part] = [
            ("curve", lambda: _with_world(servers, lambda w: _curve_and_retime(w, quick=args.quick, retime=retime))),
            ("queries", lambda: _queries(servers, quick=args.quick)),
            ("daily", lambda: _daily(quick=args.quick)),
            ("reimport", lambda: _with_world(servers, lambda w: _reimport(w, quick=args.quick))),
        ]
        return [(n, p) for n, p in every if not args.only or n in args.only or (n == "curve" and retime)]

    report = partial(_report, written=args.results)
    return run(Run("scale", args.quick, args.results, report, derive=_retime_figure), parts)


def _retime_figure(results: dict[str, Any]) -> None:
    if "retime_seconds" in results:
        results["retime_100k_s"] = results["retime_seconds"]


def _report(results: dict[str, Any], written: Path) -> str:
    return table(("figure", "value", "target", "verdict"), _verdicts(results)) + f"\n\nwrote {written}"


def _with_world(servers: Servers, run_in: Callable[[World], dict[str, Any]]) -> dict[str, Any]:
    with world(servers.postgres, servers.rabbit) as the_world:
        return run_in(the_world)


def _queries(servers: Servers, *, quick: bool) -> dict[str, Any]:
    with world(servers.postgres, servers.rabbit) as the_world:
        found = scale_queries.run(the_world, children=20_000 if quick else 1_000_000, teams=10)
    p95 = {name: q["service"]["p95_ms"] for name, q in found["queries"].items()}
    return {"query_p95_ms": p95, "queries": found}


def _reimport(the_world: World, *, quick: bool) -> dict[str, Any]:
    return scale_reimport.reimport(the_world, imports=10, rows=10_000 if quick else 100_000)


def _daily(*, quick: bool) -> dict[str, Any]:
    found = scale_daily.simulate(scale_daily.QUICK if quick else scale_daily.FULL)
    return {k: found[k] for k in ("daily_cap_days", "daily_cap_exceeded", "lost")} | {"daily": found}


if __name__ == "__main__":
    sys.exit(main())
