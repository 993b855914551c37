"""Runs 6 and 7: the work that follows sends (every activity-log row written), and receipts in a burst.

Both read cohort's activity_log.logged_at (the writing transaction's start, on the database server's
clock, which is this machine's) against the driver's own wall clock.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from bench import workload as w
from bench.cpu import CpuMeter
from bench.figures import percentile
from bench.phases import Sizes, scheduled_not_due
from bench.stack import admin_dsn
from testkit.stack import Stack
from testkit.stub import CALLBACK_TOKEN

# Entries each child's invitation makes once it is due: scheduled again (the re-timing), two sends and
# two receipts (email and SMS).
ENTRIES_PER_CHILD = 5
# Receipts in flight at once, as a pool of Notify's callback workers posting as fast as they are answered.
RECEIPT_CONCURRENCY = 64

_LOGGED_SINCE = """
    SELECT count(*), extract(epoch FROM max(a.logged_at)) FROM cohort.activity_log a
    JOIN cohort.children c ON c.id = a.child_id
    WHERE c.team_ods = $1 AND a.logged_at >= to_timestamp($2)
"""
_KIND = """
    SELECT count(*) FROM cohort.activity_log a JOIN cohort.children c ON c.id = a.child_id
    WHERE c.team_ods = $1 AND a.kind = $2
"""
_SENT = """
    SELECT id::text, provider_id, reference, "to", channel FROM notify.notifications
    WHERE team_ods = $1 AND status = 'sent'
"""
_DELIVERED_AT = """
    SELECT a.details->>'notification_id', extract(epoch FROM a.logged_at) FROM cohort.activity_log a
    JOIN cohort.children c ON c.id = a.child_id
    WHERE c.team_ods = $1 AND a.kind = 'notification_delivered'
"""


def _restart_cpu(cpu: CpuMeter | None) -> None:
    if cpu is not None:  # the phase's CPU is what its clock measures, not the set-up's
        cpu.start()


async def _logged_since(db: w.Database, ods: str, since: float) -> tuple[int, float]:
    row = await db.conn.fetchrow(_LOGGED_SINCE, ods, since)
    return int(row[0]), float(row[1] or 0.0)


async def followup(stack: Stack, sizes: Sizes, cpu: CpuMeter | None = None) -> dict[str, Any]:
    """Every invitation of a cohort made due at once; the stub posts a receipt for every send."""
    children, phase = sizes.followup_children, "followup"
    client, db = await w.connect(stack.amqp_url), await w.Database.connect(admin_dsn(stack.database_url))
    try:
        ods = await scheduled_not_due(client, db, children, phase)
        # The import's own entries (joined, scheduled) are written before the clock starts.
        await w.wait_count(lambda: db.count(_KIND, ods, "invitation_scheduled"), children, timeout=600,
                           what="the import's activity entries", phase=phase)  # fmt: skip
        async with stack.stub.control() as stub:
            w.log(phase, f"making {children:,} invitations ({2 * children:,} messages) due now: the clock starts")
            _restart_cpu(cpu)
            started = time.time()
            await w.create_team(client, ods, days_before=21)
            await w.wait_count(stub.recorded, 2 * children, timeout=1800, what="sends at the stub", phase=phase)
            last_send = max(at for _, at in await stub.arrivals())
        expected = ENTRIES_PER_CHILD * children
        # The figures come from logged_at, not from when this probe saw the end; and the probe joins the whole
        # activity log (80 ms at 50,000 rows, 8 of PostgreSQL's 10 CPU seconds in a quick run at 1 a second).
        await w.wait_count(lambda: _count_since(db, ods, started), expected, timeout=1800,
                           what="activity entries since the clock started", phase=phase, longest_pause=5.0)  # fmt: skip
        written, last_logged = await _logged_since(db, ods, started)
    finally:
        await db.close()
        await client.stop()
    return {
        "followup_children": children,
        "followup_events": written,
        "followup_events_per_s": written / (last_logged - started),
        "followup_sends_per_s": 2 * children / (last_send - started),
        "followup_lag_s": round(max(0.0, last_logged - last_send), 2),
    }


async def _count_since(db: w.Database, ods: str, since: float) -> int:
    return (await _logged_since(db, ods, since))[0]


async def callbacks(stack: Stack, sizes: Sizes, cpu: CpuMeter | None = None) -> dict[str, Any]:
    """Receipts for every sent message posted as fast as notify answers, until each is in an activity log."""
    receipts, phase = sizes.callback_receipts, "callbacks"
    client, db = await w.connect(stack.amqp_url), await w.Database.connect(admin_dsn(stack.database_url))
    try:
        ods = await scheduled_not_due(client, db, receipts // 2, phase)
        await w.create_team(client, ods, days_before=21)
        await w.wait_count(lambda: db.sent(ods), receipts, timeout=900, what="sends recorded", phase=phase)
        await w.wait_count(lambda: db.count(_KIND, ods, "notification_sent"), receipts, timeout=900,
                           what="sends in the activity log", phase=phase)  # fmt: skip
        sent = await db.conn.fetch(_SENT, ods)
        notify_url = stack.processes["notify"].base_url
        w.log(phase, f"posting {len(sent):,} receipts, {RECEIPT_CONCURRENCY} at a time: the clock starts")
        _restart_cpu(cpu)
        posted, answered, statuses = await _post_receipts(notify_url, sent)
        await w.wait_count(lambda: db.count(_KIND, ods, "notification_delivered"), len(sent), timeout=900,
                           what="receipts in the activity log", phase=phase)  # fmt: skip
        logged = {r[0]: float(r[1]) for r in await db.conn.fetch(_DELIVERED_AT, ods)}
    finally:
        await db.close()
        await client.stop()
    accepted = sum(1 for s in statuses if s == 204)
    to_log = [(logged[i] - posted[i]) * 1000 for i in posted if i in logged]
    return {
        "callbacks_posted": len(sent),
        "callbacks_accepted": accepted,
        "callbacks_per_s": accepted / (max(answered.values()) - min(posted.values())),
        "callback_to_log_p50_ms": percentile(to_log, 50),
        "callback_to_log_p99_ms": percentile(to_log, 99),
        "callback_to_log_max_ms": max(to_log),
    }


async def _post_receipts(notify_url: str, sent: list[Any]) -> tuple[dict[str, float], dict[str, float], list[int]]:
    """POST a 'delivered' receipt for each sent row; returns when each was posted and answered, and the codes."""
    posted: dict[str, float] = {}
    answered: dict[str, float] = {}
    statuses: list[int] = []
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for row in sent:
        queue.put_nowait(row)
    headers = {"Authorization": f"Bearer {CALLBACK_TOKEN}"}
    connector = aiohttp.TCPConnector(limit=RECEIPT_CONCURRENCY)
    async with aiohttp.ClientSession(notify_url, connector=connector, headers=headers) as http:

        async def worker() -> None:
            while not queue.empty():
                notification_id, provider_id, reference, to, channel = queue.get_nowait()
                body = {"id": provider_id, "reference": reference, "to": to, "status": "delivered",
                        "notification_type": channel}  # fmt: skip
                posted[notification_id] = time.time()
                async with http.post("/notifications/status", json=body) as response:
                    await response.read()
                    statuses.append(response.status)
                answered[notification_id] = time.time()

        await asyncio.gather(*(worker() for _ in range(RECEIPT_CONCURRENCY)))
    return posted, answered, statuses
