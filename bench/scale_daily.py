"""Daily caps at national scale: 2,000,000 messages due through one GOV.UK Notify service's daily limits.

GOV.UK Notify lets one service send 250,000 emails and 250,000 texts a day. This seeds notify's
notifications table (in a database of its own, migrated with notify's migrations) with messages all
due at once, then runs notify's own dispatchers in this process -- several, sharing the database as
replicas do -- with the log provider (refusing one send in a thousand once with a 429, as a busy
Notify does) and a clock the run moves: once the day's caps are used (nothing left that may be sent
today, nothing in flight), the clock moves to the next UTC midnight, the day boundary the caps count
by; refused sends backing off move it on within the day first. Counts come from the database
afterwards and from what the provider accepted: sends per day and channel, days on which any cap was
exceeded, and messages lost.

The shared rate limit (3,000 a minute) is off: its bucket runs on the database's clock, not the
run's, and at that rate one simulated day alone would take 83 real minutes. Caps are the subject.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from bench.figures import table
from bench.stack import admin_dsn
from msgkit.clock import FixedClock
from msgkit.db import create_engine, session_factory
from msgkit.migrations import upgrade
from msgkit.testing import fresh_database, postgres_server
from notify import migrate
from notify.app import send_policy
from notify.config import Settings
from notify.delivery.dispatcher import Dispatcher
from notify.delivery.local_providers import LogProvider
from notify.delivery.providers import OutboundMessage, ProviderReceipt, RetryableProviderError
from notify.domain.default_templates import default_catalogue
from notify.domain.templates import Channel, MessageKind
from notify.domain.timing import DAY_END_GUARD, BucketShape, next_utc_midnight
from notify.persistence.tables import messaging
from notify.persistence.uow import NotifyUnitOfWork

# A Monday in a year no other run uses; the caps count by UTC day.
START = datetime(2031, 1, 6, 0, 0, tzinfo=UTC)
# How far the clock moves within a day to the next retries (backoff starts at 5 s): a minute's at once.
RETRY_STEP = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Sizes:
    messages: int  # due at START, email and SMS
    email_share: float
    email_cap: int  # a day
    sms_cap: int
    replicas: int  # dispatchers sharing the database
    batch_size: int
    max_in_flight: int
    # Every this-many-th send is refused once with a 429 (0: none), as GOV.UK Notify does under load: a
    # refused send is not counted by the provider, so the day's cap must still be used in full.
    refuse_every: int = 0


# 1,100,000 emails (5 days at 250,000) and 900,000 texts (4 days).
FULL = Sizes(2_000_000, 0.55, 250_000, 250_000, replicas=2, batch_size=500, max_in_flight=1000, refuse_every=1000)
QUICK = Sizes(50_000, 0.55, 10_000, 10_000, replicas=2, batch_size=500, max_in_flight=1000, refuse_every=1000)


class CountingProvider:
    """The log provider, counting what it accepted per (day of the run's clock, channel) and per reference."""

    def __init__(self, clock: FixedClock, *, refuse_every: int = 0) -> None:
        self._inner = LogProvider(remember=1_000)
        self._clock = clock
        self._refuse_every = refuse_every
        self._calls = 0
        self.refused: set[str] = set()
        self.by_day: Counter[tuple[date, str]] = Counter()
        self.references: Counter[str] = Counter()

    async def send(self, message: OutboundMessage) -> ProviderReceipt:
        self._calls += 1
        if self._refuse_every and self._calls % self._refuse_every == 0 and message.reference not in self.refused:
            self.refused.add(message.reference)
            raise RetryableProviderError(429, error_code="RateLimitError")
        receipt = await self._inner.send(message)
        self.by_day[self._clock.now().date(), str(message.channel)] += 1
        self.references[message.reference] += 1
        return receipt

    async def find_by_reference(self, reference: str) -> ProviderReceipt | None:
        return await self._inner.find_by_reference(reference)


def _templates() -> dict[str, str]:
    catalogue = default_catalogue()
    return {
        str(c): catalogue.resolve(MessageKind.CLINIC_INITIAL_INVITATION, c, None).id
        for c in (Channel.EMAIL, Channel.SMS)
    }


_PERSONALISATION = (
    '{"child_full_name": "Alex Bench", "child_first_name": "Alex", "programmes": "flu", "team_name": "Bench SAIS",'
    ' "team_phone": "0113 496 0000", "team_email": "sais@example.com", "booking_link": "https://book.example.com"}'
)

# Generated by the server: 2,000,000 rows in about a minute, without a round trip per row.
_SEED = """
    INSERT INTO notify.notifications (id, reference, child_id, parent_id, team_ods, kind, channel, "to", template_id,
                                      personalisation, programmes, academic_year, status, attempts, next_attempt_at)
    SELECT id, CAST(id AS text), gen_random_uuid(), gen_random_uuid(), 'SIM' || (n % 60), 'clinic_initial_invitation',
           channel, CASE channel WHEN 'email' THEN 'parent' || n || '@example.com' ELSE '07700' || lpad(n::text, 6, '0')
           END, CASE channel WHEN 'email' THEN $3 ELSE $4 END, CAST($5 AS jsonb), ARRAY['flu'], 2030, 'pending', 0, $6
    FROM (SELECT gen_random_uuid() AS id, n,
                 CASE WHEN n % 1000 < $2 THEN 'email' ELSE 'sms' END AS channel
          FROM generate_series($7::integer, $1::integer - 1) AS n) AS s
"""
SEED_CHUNK = 250_000


async def seed(dsn: str, sizes: Sizes) -> Counter[str]:
    templates = _templates()
    conn = await asyncpg.connect(dsn)
    try:
        for start in range(0, sizes.messages, SEED_CHUNK):
            end = min(sizes.messages, start + SEED_CHUNK)
            await conn.execute(_SEED, end, round(sizes.email_share * 1000), templates["email"], templates["sms"],
                               _PERSONALISATION, START, start)  # fmt: skip
        await conn.execute("ANALYZE notify.notifications")
        rows = await conn.fetch("SELECT channel, count(*) AS n FROM notify.notifications GROUP BY channel")
        return Counter({r["channel"]: r["n"] for r in rows})
    finally:
        await conn.close()


@dataclass
class Replica:
    dispatcher: Dispatcher
    dispose: Any


def _replica(database_url: str, clock: FixedClock, provider: CountingProvider, sizes: Sizes) -> Replica:
    """One notify replica's dispatcher as notify's app builds it, on an engine of its own."""
    settings = Settings(
        daily_email_limit=sizes.email_cap, daily_sms_limit=sizes.sms_cap, rate_limit_enabled=False,
        dispatcher_batch_size=sizes.batch_size, max_in_flight=sizes.max_in_flight, dispatcher_poll_interval=0.1,
    )  # fmt: skip
    engine = create_engine(database_url, schema="notify", pool_size=4)
    sessions = session_factory(engine)
    dispatcher: Dispatcher | None = None

    def new_uow() -> NotifyUnitOfWork:
        on_due = dispatcher.wake if dispatcher is not None else lambda due: None
        return NotifyUnitOfWork(sessions, messaging, consumer="notify", on_due=on_due)

    dispatcher = Dispatcher(
        new_uow, clock=clock, provider=provider, catalogue=default_catalogue(), policy=send_policy(settings),
        bucket=BucketShape(1.0, 1.0), batch_size=settings.dispatcher_batch_size, max_in_flight=settings.max_in_flight,
        poll_interval=settings.dispatcher_poll_interval, stale_after=timedelta(seconds=settings.stale_sending_seconds),
        postpone=timedelta(seconds=settings.postpone_seconds),
    )  # fmt: skip
    return Replica(dispatcher, engine.dispose)


_STATE = """
    SELECT n.channel,
           count(*) FILTER (WHERE n.status = 'pending') AS pending,
           count(*) FILTER (WHERE n.status = 'pending' AND n.next_attempt_at <= $1) AS due,
           count(*) FILTER (WHERE n.status = 'sending') AS sending,
           min(n.next_attempt_at) FILTER (WHERE n.status = 'pending') AS soonest,
           COALESCE(max(d.sent), 0) AS granted
    FROM notify.notifications AS n LEFT JOIN notify.daily_sends AS d ON d.day = $2 AND d.channel = n.channel
    WHERE n.status IN ('pending', 'sending')
    GROUP BY n.channel
"""


@dataclass(frozen=True, slots=True)
class _State:
    idle: bool  # nothing more may go at this instant, and nothing is in flight
    pending: int
    soonest: datetime | None  # the first retry later today of a channel with room left


async def _state(conn: asyncpg.Connection, now: datetime, caps: dict[str, int]) -> _State:
    rows = await conn.fetch(_STATE, now, now.date())
    room = [r for r in rows if r["granted"] < caps[r["channel"]]]
    busy = any(r["sending"] for r in rows) or any(r["due"] for r in room)
    last_claim = next_utc_midnight(now) - DAY_END_GUARD
    later = [r["soonest"] for r in room if r["soonest"] is not None and r["soonest"] < last_claim]
    return _State(not busy, sum(r["pending"] for r in rows), min(later, default=None))


async def run(database_url: str, sizes: Sizes, *, timeout: float) -> dict[str, Any]:
    clock = FixedClock(START)
    provider = CountingProvider(clock, refuse_every=sizes.refuse_every)
    replicas = [_replica(database_url, clock, provider, sizes) for _ in range(sizes.replicas)]
    caps = {"email": sizes.email_cap, "sms": sizes.sms_cap}
    conn = await asyncpg.connect(admin_dsn(database_url))
    days: list[dict[str, Any]] = []
    began = time.monotonic()
    try:
        for r in replicas:
            await r.dispatcher.start()
        day_began = time.monotonic()
        while True:
            if time.monotonic() - began > timeout:
                raise TimeoutError(f"not all sent after {timeout:g}s")
            state = await _state(conn, clock.now(), caps)
            # Twice in a row: a claim that had not committed when the first look was taken has by the second.
            if state.idle:
                await asyncio.sleep(0.3)
                state = await _state(conn, clock.now(), caps)
            if not state.idle:
                await asyncio.sleep(0.2)
                continue
            if state.soonest is not None:  # refused sends backing off: the day goes on to their retries
                last_claim = next_utc_midnight(clock.now()) - DAY_END_GUARD
                clock.set(min(max(state.soonest, clock.now() + RETRY_STEP), last_claim))
            else:
                days.append({"day": str(clock.now().date()), "seconds": round(time.monotonic() - day_began, 1)})
                print(f"[{time.strftime('%H:%M:%S')}] daily: {clock.now().date()} done in {days[-1]['seconds']}s; "
                      f"{state.pending:,} pending", flush=True)  # fmt: skip
                if not state.pending:
                    break
                clock.set(next_utc_midnight(clock.now()))
                day_began = time.monotonic()
            for r in replicas:
                r.dispatcher.wake()
    finally:
        for r in replicas:
            await r.dispatcher.stop()
            await r.dispose()
        await conn.close()
    return {"provider": provider, "days": days, "seconds": time.monotonic() - began}


_SENT_BY_DAY = """
    SELECT CAST(sent_at AT TIME ZONE 'UTC' AS date) AS day, channel, count(*) AS n
    FROM notify.notifications WHERE status = 'sent' GROUP BY 1, 2 ORDER BY 1, 2
"""


async def count(database_url: str, seeded: Counter[str], sizes: Sizes, provider: CountingProvider) -> dict[str, Any]:
    conn = await asyncpg.connect(admin_dsn(database_url))
    try:
        sent = {(r["day"], r["channel"]): int(r["n"]) for r in await conn.fetch(_SENT_BY_DAY)}
        statuses = dict(await conn.fetch("SELECT status, count(*) FROM notify.notifications GROUP BY status"))
        granted = {
            (r["day"], r["channel"]): int(r["sent"]) for r in await conn.fetch("SELECT * FROM notify.daily_sends")
        }
    finally:
        await conn.close()
    caps = {"email": sizes.email_cap, "sms": sizes.sms_cap}
    by_day: dict[str, dict[str, int]] = {}
    for (day, channel), n in sorted(sent.items()):
        by_day.setdefault(str(day), {})[channel] = n
    over = {d for (d, c), n in sent.items() if n > caps[c]}
    over_at_provider = {d for (d, c), n in provider.by_day.items() if n > caps[c]}
    unsent = int(statuses.get("pending", 0)) + int(statuses.get("sending", 0))
    total = sum(seeded.values())
    return {
        "daily_cap_days": len({d for d, _ in sent}),
        "daily_cap_exceeded": len(over | over_at_provider),
        "lost": total - int(statuses.get("sent", 0)) - unsent,
        "sent_by_day": by_day,
        "messages": total,
        "messages_by_channel": dict(seeded),
        "statuses": {k: int(v) for k, v in statuses.items()},
        "provider_sends": sum(provider.by_day.values()),
        "provider_duplicates": sum(n - 1 for n in provider.references.values() if n > 1),
        "provider_refused": len(provider.refused),
        "granted_by_day": {f"{d} {c}": n for (d, c), n in sorted(granted.items())},
        "caps_unused_days": _unused(by_day, caps),
        "caps": caps,
    }


def _unused(by_day: dict[str, dict[str, int]], caps: dict[str, int]) -> int:
    """Days on which a channel sent less than its cap while it still had messages for later days."""
    return sum(
        1
        for day, sent in by_day.items()
        for channel, cap in caps.items()
        if sent.get(channel, 0) < cap and any(later > day and channel in v for later, v in by_day.items())
    )


@contextmanager
def _database() -> Iterator[str]:
    with ExitStack() as exits:
        database_url = exits.enter_context(fresh_database(exits.enter_context(postgres_server(exits))))
        upgrade(migrate.MIGRATIONS, url=database_url, schema="notify")
        yield database_url


def simulate(sizes: Sizes, *, timeout: float = 7200.0) -> dict[str, Any]:
    """Seed `sizes.messages` due messages in a fresh database and send them all; the figures, counted afterwards."""
    logging.getLogger("notify.delivery.local_providers").setLevel(logging.WARNING)  # a line a send otherwise
    with _database() as database_url:
        began = time.monotonic()
        seeded = asyncio.run(seed(admin_dsn(database_url), sizes))
        seeded_in = time.monotonic() - began
        print(f"[{time.strftime('%H:%M:%S')}] daily: seeded {sum(seeded.values()):,} in {seeded_in:.1f}s", flush=True)
        ran = asyncio.run(run(database_url, sizes, timeout=timeout))
        found = asyncio.run(count(database_url, seeded, sizes, ran["provider"]))
    return found | {
        "daily_sizes": asdict(sizes),
        "daily_seed_seconds": round(seeded_in, 1),
        "daily_run_seconds": round(ran["seconds"], 1),
        "daily_days": ran["days"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_daily", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 messages, caps of 10,000 a day")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    found = simulate(sizes)
    caps = found["caps"]
    rows = [(day, f"{v.get('email', 0):,}", f"{v.get('sms', 0):,}") for day, v in sorted(found["sent_by_day"].items())]
    print(table(("day (UTC)", f"email (cap {caps['email']:,})", f"sms (cap {caps['sms']:,})"), rows))
    summary = [
        ("messages due", f"{found['messages']:,}"),
        ("days", str(found["daily_cap_days"])),
        ("days a cap was exceeded", str(found["daily_cap_exceeded"])),
        ("lost", str(found["lost"])),
        ("sent twice at the provider", str(found["provider_duplicates"])),
        ("sends refused once (429) and retried", f"{found['provider_refused']:,}"),
        ("days a cap was not fully used (before the last)", str(found["caps_unused_days"])),
        ("seed / run seconds", f"{found['daily_seed_seconds']} / {found['daily_run_seconds']}"),
    ]
    print(table(("figure", "value"), summary))
    return 0 if found["daily_cap_exceeded"] == 0 and found["lost"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
