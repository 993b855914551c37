"""The work the benchmark asks of the services, only through the published contract; and its progress."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import asyncpg
from faststream.rabbit import RabbitBroker

from contracts import sessions
from contracts.cohort import CommitCohortImport, ImportCohortChunk
from contracts.common import Programme
from contracts.envelope import Message
from msgkit import rpc
from msgkit.clock import academic_year_of
from msgkit.failover import FailoverBroker
from testkit.data import HEADER, all_day_team, cohort_row, nhs_number

CHUNK_ROWS = 2000
FLU = [Programme.FLU]


def new_team() -> str:
    return "B" + uuid.uuid4().hex[:7].upper()


def email_of(seed: int) -> str:
    return f"parent{seed}@example.com"


def rows(count: int, *, urn: str, start: int = 0) -> list[list[str]]:
    """Cohort CSV rows (Mavis's upload format), one contactable parent (email and mobile) per child; the
    mobiles are Ofcom's drama range (07700 9xxxxx), which the importer accepts and no one answers."""
    return [
        cohort_row(first_name="Alex", last_name=f"Bench{n}", nhs=nhs_number(n), urn=urn, email=email_of(n),
                   phone=f"077009{n % 100_000:05d}")
        for n in range(start, start + count)
    ]  # fmt: skip


def log(phase: str, text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {phase}: {text}", flush=True)


async def ask(client: RabbitBroker, message: Message, *, timeout: float = 60.0) -> dict[str, Any]:
    reply = await rpc.request(client, message, timeout=timeout)
    if not reply.ok:
        raise RuntimeError(f"{type(message).__name__} refused: {reply.error}")
    return reply.data or {}


async def connect(amqp_url: str) -> RabbitBroker:
    # One URL or a cluster's address list (msgkit.addresses), like the services'.
    client = FailoverBroker(amqp_url, log_level=40)
    await client.connect()
    return client


async def create_team(client: RabbitBroker, ods: str, *, days_before: int) -> None:
    """A team whose sending window is the whole day, so what is due is sent at any hour the bench runs."""
    await ask(client, sessions.UpsertTeam(team=all_day_team(ods, name="Bench SAIS team", days_before=days_before)))


async def set_clinic(client: RabbitBroker, ods: str, on: date, year: int) -> None:
    dates = [sessions.ClinicDate(on=on)]
    await ask(client, sessions.SetClinicDates(team_ods=ods, academic_year=year, programmes=FLU, dates=dates))


async def stage(client: RabbitBroker, ods: str, cells: list[list[str]], *, phase: str) -> uuid.UUID:
    """Stage every chunk of an import (each is validated and answered); returns the import id to commit."""
    import_id, numbered = uuid.uuid4(), list(enumerate(cells, start=2))
    for sequence, start in enumerate(range(0, len(numbered), CHUNK_ROWS)):
        chunk = ImportCohortChunk(
            import_id=import_id, team_ods=ods, sequence=sequence, header=HEADER,
            rows=numbered[start : start + CHUNK_ROWS],
        )  # fmt: skip
        errors = (await ask(client, chunk, timeout=300)).get("errors")
        if errors:
            raise RuntimeError(f"the import has row errors, e.g. {errors[:3]}")
        staged = min(start + CHUNK_ROWS, len(numbered))
        if sequence % 10 == 9 or staged == len(numbered):
            log(phase, f"staged {staged:,}/{len(numbered):,} rows")
    return import_id


async def commit(client: RabbitBroker, ods: str, import_id: uuid.UUID, *, year: int) -> dict[str, Any]:
    command = CommitCohortImport(import_id=import_id, team_ods=ods, academic_year=year, programmes=FLU)
    return await ask(client, command, timeout=900)


async def import_cohort(
    client: RabbitBroker, ods: str, cells: list[list[str]], *, year: int, phase: str
) -> dict[str, Any]:
    return await commit(client, ods, await stage(client, ods, cells, phase=phase), year=year)


def day_and_year(today: date, offset_days: int) -> tuple[date, int]:
    day = today + timedelta(days=offset_days)
    return day, academic_year_of(day)


class Database:
    """Read-only counts in the phase's database, as the admin user (measurement only)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    @classmethod
    async def connect(cls, dsn: str) -> Database:
        return cls(await asyncpg.connect(dsn))

    async def close(self) -> None:
        await self.conn.close()

    async def count(self, sql: str, *args: object) -> int:
        return int(await self.conn.fetchval(sql, *args))

    async def team_known(self, ods: str) -> bool:
        """Both cohort and notify have the team, and notify has its clinic dates."""
        return bool(
            await self.count("SELECT count(*) FROM cohort.teams WHERE ods_code = $1", ods)
            and await self.count("SELECT count(*) FROM notify.teams WHERE ods_code = $1", ods)
            and await self.count("SELECT count(*) FROM notify.clinic_sessions WHERE team_ods = $1", ods)
        )

    async def scheduled(self, ods: str) -> int:
        return await self.count(
            "SELECT count(*) FROM notify.invitations WHERE team_ods = $1 AND status = 'scheduled'", ods
        )

    async def notify_children(self, ods: str) -> int:
        return await self.count("SELECT count(*) FROM notify.children WHERE team_ods = $1", ods)

    async def sent(self, ods: str) -> int:
        return await self.count(
            "SELECT count(*) FROM notify.notifications WHERE team_ods = $1 AND status = 'sent'", ods
        )


async def wait_until(
    probe: Callable[[], Awaitable[bool]], *, timeout: float, what: str, interval: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await probe():
            return
        await asyncio.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")


async def wait_count(
    count: Callable[[], Awaitable[int]],
    target: int,
    *,
    timeout: float,
    what: str,
    phase: str,
    interval: float = 0.05,
    every: float = 3.0,
    longest_pause: float = 1.0,
) -> float:
    """Poll until `count()` reaches `target`, printing progress; returns the perf_counter when it did.

    A count over 100,000 rows costs PostgreSQL ~12 ms, so polling every 0.1 s took an eighth of a core
    from the system being measured. The pause is instead a quarter of the time the rest should take at
    the rate seen so far (at most `longest_pause`), so the probe is rare while far off and frequent near the
    end. A figure read off the database afterwards (logged_at) can take a longer pause: only the end is waited for.
    """
    deadline, shown, began = time.monotonic() + timeout, time.monotonic(), time.perf_counter()
    while True:
        done = await count()
        now = time.perf_counter()
        if done >= target:
            return now
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}: {done:,}/{target:,}")
        if time.monotonic() - shown >= every:
            shown = time.monotonic()
            log(phase, f"{what}: {done:,}/{target:,}")
        rate = done / (now - began) if done else 0.0
        remaining = (target - done) / rate if rate else interval
        await asyncio.sleep(min(longest_pause, max(interval, remaining / 4)))
