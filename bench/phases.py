"""The measured phases, each against its own stack (fresh database, vhost, stub and service processes)."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bench import workload as w
from bench.cpu import CpuMeter
from bench.figures import count_before, max_in_window, percentile
from bench.stack import admin_dsn
from contracts.cohort import ChangeChildSchool, FindChildren
from msgkit.clock import SystemClock, academic_year_of, london_today
from testkit.data import A_SCHOOL, URN_HOME_EDUCATED
from testkit.stack import Stack
from testkit.stub import StubControl

# The invitations of runs 2, 4 and 5 are first scheduled for a clinic five days away with days_before 0
# (so not due); runs 4 and 5 then make them all due at once by setting days_before to 21 (a TeamUpdated
# re-times every unsent invitation), which is the moment their clocks start.
CLINIC_IN_DAYS = 5


@dataclass(frozen=True, slots=True)
class Sizes:
    raw_messages: int
    cohort_children: int
    latency_samples: int
    dispatch_sends: int
    rate_limit_per_minute: int
    rate_limit_window_s: float
    send_rate_per_second: float
    followup_children: int
    callback_receipts: int
    parents: int  # issue 20: parents walking the consent form at once


FULL = Sizes(20_000, 100_000, 1_000, 20_000, 3_000, 130.0, 50.0, 100_000, 20_000, 200)
QUICK = Sizes(2_000, 10_000, 100, 2_000, 600, 65.0, 50.0, 10_000, 2_000, 20)


def _today() -> date:
    return london_today(SystemClock())


async def team_with_clinic(
    client: Any, db: w.Database, *, days_before: int, offset: int, phase: str
) -> tuple[str, int]:
    ods = w.new_team()
    day, year = w.day_and_year(_today(), offset)
    await w.create_team(client, ods, days_before=days_before)
    await w.set_clinic(client, ods, day, year)
    await w.wait_until(lambda: db.team_known(ods), timeout=60, what="the team and its clinic in cohort and notify")
    w.log(phase, f"team {ods}, clinic on {day} (academic year {year}), days_before {days_before}")
    return ods, year


# --- run 2: a cohort import until every invitation is scheduled ----------------------------------


class RssSampler:
    """Each process's largest resident set while a phase runs, sampled every quarter second."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.sampled: dict[str, float] = {}
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._sample())

    async def stop(self) -> dict[str, float]:
        self._stop.set()
        if self._task is not None:
            await self._task
        return {k: round(v, 1) for k, v in self.sampled.items()}

    async def _sample(self) -> None:
        while not self._stop.is_set():
            for name, p in self.stack.processes.items():
                self.sampled[name] = max(self.sampled.get(name, 0.0), p.rss_mb())
            await asyncio.sleep(0.25)


async def cohort_to_scheduled(stack: Stack, sizes: Sizes, cpu: CpuMeter | None = None) -> dict[str, Any]:
    children, phase = sizes.cohort_children, "cohort"
    client, db = await w.connect(stack.amqp_url), await w.Database.connect(admin_dsn(stack.database_url))
    sampler = RssSampler(stack)
    try:
        ods, year = await team_with_clinic(client, db, days_before=0, offset=CLINIC_IN_DAYS, phase=phase)
        sampler.start()
        staging = time.perf_counter()
        import_id = await w.stage(client, ods, w.rows(children, urn=URN_HOME_EDUCATED), phase=phase)
        started = time.perf_counter()
        if cpu is not None:
            cpu.start()
        w.log(phase, f"staged in {started - staging:.1f}s; committing: the clock starts")
        committing = asyncio.create_task(w.commit(client, ods, import_id, year=year))
        done = await w.wait_count(
            lambda: db.scheduled(ods), children, timeout=900, what="invitations scheduled", phase=phase
        )
        result, committed = await committing, time.perf_counter()
        sampled = await sampler.stop()
        if result.get("joined_clinic") != children:
            raise RuntimeError(f"expected {children:,} joins, the import said {result}")
    finally:
        await db.close()
        await client.stop()
    return {
        "invitations_per_s": children / (done - started),
        "cohort_children": children,
        "cohort_seconds": round(done - started, 2),
        "cohort_import_reply_seconds": round(committed - started, 2),
        "cohort_staging_seconds": round(started - staging, 2),
        "invitations_per_s_with_staging": children / (done - staging),
        "rss_sampled_mb": sampled,
    }


# --- run 3: one child joins (due now) -> the provider receives the first message -------------------


async def latency(stack: Stack, sizes: Sizes) -> dict[str, Any]:
    samples, phase = sizes.latency_samples, "latency"
    if academic_year_of(_today()) != academic_year_of(_today() + timedelta(days=1)):
        raise RuntimeError("tomorrow is in another academic year (31 August): run the latency phase another day")
    client, db = await w.connect(stack.amqp_url), await w.Database.connect(admin_dsn(stack.database_url))
    try:
        # A clinic tomorrow is within days_before (21), so an automatic join is due at once.
        ods, year = await team_with_clinic(client, db, days_before=21, offset=1, phase=phase)
        await w.import_cohort(client, ods, w.rows(samples, urn=A_SCHOOL), year=year, phase=phase)
        await w.wait_count(
            lambda: db.notify_children(ods), samples, timeout=120, what="children in notify", phase=phase
        )
        ids = [await _child_id(client, ods, w.rows(1, urn=A_SCHOOL, start=n)[0][3]) for n in range(samples)]
        async with stack.stub.control() as stub:
            started_at, arrivals = await _invite_one_by_one(client, stub, ids, phase=phase)
    finally:
        await db.close()
        await client.stop()
    latencies = []
    for n in range(samples):
        pair = arrivals[2 * n : 2 * n + 2]
        if w.email_of(n) not in {to for to, _ in pair}:
            raise RuntimeError(f"the stub's sends {2 * n} and {2 * n + 1} are not child {n}'s")
        latencies.append((min(at for _, at in pair) - started_at[n]) * 1000)
    return {
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
        "latency_p99_ms": percentile(latencies, 99),
        "latency_max_ms": max(latencies),
        "latency_samples": samples,
    }


async def _invite_one_by_one(
    client: Any, stub: StubControl, children: list[uuid.UUID], *, phase: str
) -> tuple[list[float], list[tuple[str, float]]]:
    """Each child joins the clinic cohort (due now) in turn; when each joined, and the stub's arrivals since."""
    started_at: list[float] = []
    base = await stub.recorded()
    for n, child in enumerate(children):
        started_at.append(time.time())
        await w.ask(client, ChangeChildSchool(child_id=child, school_urn=URN_HOME_EDUCATED, changed_by="bench"))
        # Both of the parent's messages (email and SMS) arrive before the next child joins.
        await _wait_recorded(stub, base + 2 * n + 2)
        if (n + 1) % max(1, len(children) // 10) == 0:
            w.log(phase, f"{n + 1:,}/{len(children):,} children invited")
    return started_at, (await stub.arrivals())[base:]


async def _child_id(client: Any, ods: str, nhs: str) -> uuid.UUID:
    found = (await w.ask(client, FindChildren(team_ods=ods, nhs_number=nhs)))["children"]
    return uuid.UUID(found[0]["child_id"])


async def _wait_recorded(stub: StubControl, target: int, timeout: float = 30.0) -> None:
    """Poll the stub (its own arrival stamps are what is measured, so the polling rate does not matter)."""
    deadline = time.monotonic() + timeout
    while await stub.recorded() < target:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the stub did not receive send {target} within {timeout:g}s")
        await asyncio.sleep(0.005)


# --- runs 4 and 5: due messages through the dispatcher -------------------------------------------


async def scheduled_not_due(client: Any, db: w.Database, children: int, phase: str) -> str:
    """A new team with `children` invitations scheduled for a clinic days away, none due yet."""
    ods, year = await team_with_clinic(client, db, days_before=0, offset=CLINIC_IN_DAYS, phase=phase)
    await w.import_cohort(client, ods, w.rows(children, urn=URN_HOME_EDUCATED), year=year, phase=phase)
    await w.wait_count(lambda: db.scheduled(ods), children, timeout=600, what="invitations scheduled", phase=phase)
    return ods


async def dispatch(stack: Stack, sizes: Sizes) -> dict[str, Any]:
    sends = sizes.dispatch_sends
    phase = "dispatch"
    client, db = await w.connect(stack.amqp_url), await w.Database.connect(admin_dsn(stack.database_url))
    try:
        ods = await scheduled_not_due(client, db, sends // 2, phase)
        async with stack.stub.control() as stub:
            w.log(phase, f"making {sends:,} messages due now: the clock starts")
            due = time.time()
            await w.create_team(client, ods, days_before=21)
            await w.wait_count(stub.recorded, sends, timeout=600, what="sends at the stub", phase=phase, interval=0.05)
            stamps = sorted(at for _, at in await stub.arrivals())
        recorded = await w.wait_count(
            lambda: db.sent(ods), sends, timeout=300, what="sends recorded in notify", phase=phase
        )
        recorded_at = time.time() - (time.perf_counter() - recorded)
    finally:
        await db.close()
        await client.stop()
    return {
        "dispatch_sends_per_s": sends / (stamps[-1] - due),
        "dispatch_first_to_last_per_s": (len(stamps) - 1) / (stamps[-1] - stamps[0]),
        "dispatch_first_send_after_s": round(stamps[0] - due, 3),
        "dispatch_all_recorded_per_s": sends / (recorded_at - due),
        "dispatch_sends": sends,
    }


async def rate_limit(stack: Stack, sizes: Sizes) -> dict[str, Any]:
    phase = "rate-limit"
    limit, window = sizes.rate_limit_per_minute, sizes.rate_limit_window_s
    # More than the window can take, so the limit (not a lack of work) bounds every second of it.
    children = int((limit / 60 * window + 100) * 0.6) + 50
    client, db = await w.connect(stack.amqp_url), await w.Database.connect(admin_dsn(stack.database_url))
    try:
        ods = await scheduled_not_due(client, db, children, phase)
        async with stack.stub.control() as stub:
            w.log(phase, f"{2 * children:,} messages due now, {len(stack.replicas('notify'))} notify replicas, "
                  f"limit {limit:,}/min: measuring {window:g}s")  # fmt: skip
            await w.create_team(client, ods, days_before=21)
            await w.wait_count(stub.recorded, 1, timeout=60, what="the first send", phase=phase, interval=0.02)
            first = min(at for _, at in await stub.arrivals())
            while time.time() < first + window:
                await asyncio.sleep(min(10.0, first + window - time.time()))
                w.log(phase, f"{await stub.recorded():,} sent after {time.time() - first:.0f}s")
            stamps = sorted(at for _, at in await stub.arrivals())
            rejected = int((await stub.stats())["totals"].get("rate_limited", 0))
    finally:
        await db.close()
        await client.stop()
    measured = stamps[: count_before(stamps, first + window)]
    most = max_in_window(measured, 60.0)
    return {
        "rate_limit_max_per_60s": most,
        "rate_limit_utilisation": most / limit,
        "rate_limit_per_minute": limit,
        "rate_limit_window_s": window,
        "rate_limit_sends_in_window": len(measured),
        "rate_limit_429s": rejected,
        "rate_limit_replicas": len(stack.replicas("notify")),
        "rate_limit_send_rate_per_second": sizes.send_rate_per_second,
    }
