"""Send limits in PostgreSQL: the shared token bucket under contention, daily caps, and the sending window."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from msgkit.db import create_engine, session_factory
from notify.delivery.claim import SendPolicy, claim_sends
from notify.delivery.expand import expand_due
from notify.domain.timing import BucketShape
from notify.persistence.limits import SendLimits
from testkit import eventually

from ..notify_support import Harness, invite, parent, request
from .test_handlers import parent_message

pytestmark = pytest.mark.integration


async def test_bucket_never_hands_out_more_than_capacity_plus_refill(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    name, shape = f"test-{uuid.uuid4().hex[:8]}", BucketShape(capacity=5, refill_per_second=20)
    async with sessions() as session, session.begin():
        await SendLimits(session).ensure_bucket(name, shape)
    taken, started = 0, time.monotonic()

    async def worker() -> None:
        nonlocal taken
        while time.monotonic() - started < 1.0:
            async with sessions() as session, session.begin():
                got = await SendLimits(session).take(name, 3)
                taken += got.tokens  # not `taken += await ...`: that reads `taken` before the await

    await asyncio.gather(*(worker() for _ in range(8)))
    elapsed = time.monotonic() - started
    assert taken <= shape.capacity + shape.refill_per_second * elapsed
    # And the bucket refills: more than its capacity went out. A figure tied to the elapsed time would
    # measure how busy the machine is (a loaded CI machine once took only 12 tokens in that second).
    assert taken > shape.capacity


async def test_daily_counts_of_both_channels_are_granted_in_one_go(engine: AsyncEngine) -> None:
    sessions, day = session_factory(engine), date(2031, 3, 9)  # a day no other test sends on
    limits = {"email": 4, "sms": 1}
    async with sessions() as session, session.begin():
        first = await SendLimits(session).grant_daily(day, {"sms": 2, "email": 3}, limits)
    async with sessions() as session, session.begin():
        second = await SendLimits(session).grant_daily(day, {"email": 3, "sms": 1}, limits)
    assert (first, second) == ({"email": 3, "sms": 1}, {"email": 1, "sms": 0})


async def test_daily_cap_spills_the_rest_to_the_next_utc_day(start_app: Any, harness: Harness) -> None:
    harness.clock.set(datetime(2031, 3, 3, 10, 0, tzinfo=UTC))  # a day no other test sends on
    await start_app(daily_email_limit=1)
    kid = await harness.setup_child(parents=[parent(phone=False), parent(phone=False)])
    await harness.publish(parent_message(kid.child_id, kid.team_ods))
    await harness.wait_notifications(kid.child_id, "sent", 1)
    [spilled] = [n for n in await harness.notifications(kid.child_id) if n.status == "pending"]
    # Left due, not moved: its channel is not claimed again until the day has room.
    assert spilled.next_attempt_at <= harness.clock.now() and spilled.attempts == 0
    harness.clock.set(datetime(2031, 3, 4, 0, 0, 1, tzinfo=UTC))
    await harness.wait_notifications(kid.child_id, "sent", 2)


async def test_due_work_found_after_the_window_closed_waits_for_it_to_open(start_app: Any, harness: Harness) -> None:
    await start_app(dispatcher_enabled=False)
    kid = await harness.setup_child(dates=[date(2026, 1, 20)], parents=[parent(phone=False)])
    await harness.publish(invite(request(kid), at=harness.clock.now()))
    await harness.wait_invitation(kid.child_id, "scheduled")
    harness.clock.set(datetime(2026, 1, 12, 20, 0, tzinfo=UTC))  # the replica that should have sent it was down
    await start_app()
    opening = datetime(2026, 1, 13, 9, 0, tzinfo=UTC)

    async def deferred() -> bool:
        return [(n.status, n.next_attempt_at) for n in await harness.notifications(kid.child_id)] == [
            ("pending", opening)
        ]

    await eventually(deferred, what="the send deferred to the next opening")
    harness.clock.set(datetime(2026, 1, 13, 9, 0, tzinfo=UTC))
    await harness.wait_notifications(kid.child_id, "sent", 1)


async def test_daily_cap_applies_to_notifications_claimed_as_they_are_made(start_app: Any, harness: Harness) -> None:
    harness.clock.set(datetime(2031, 3, 5, 10, 0, tzinfo=UTC))  # a day no other test sends on
    await start_app(daily_email_limit=1)
    kid = await harness.setup_child(dates=[date(2031, 3, 8)], parents=[parent(phone=False), parent(phone=False)])
    await harness.publish(invite(request(kid), at=harness.clock.now()))  # due now
    await harness.wait_notifications(kid.child_id, "sent", 1)
    [spilled] = [n for n in await harness.notifications(kid.child_id) if n.status == "pending"]
    assert spilled.next_attempt_at <= harness.clock.now() and spilled.attempts == 0
    harness.clock.set(datetime(2031, 3, 6, 9, 0, tzinfo=UTC))  # the next day, once the sending window opens
    await harness.wait_notifications(kid.child_id, "sent", 2)


async def test_expanding_claims_what_may_go_now_up_to_the_send_limit(start_app: Any, harness: Harness) -> None:
    app = await start_app(dispatcher_enabled=False)
    wiring = app.context.get("wiring")
    kid = await harness.setup_child(
        dates=[harness.clock.now().date() + timedelta(days=3)], parents=[parent(), parent(phone=False)]
    )
    await harness.publish(invite(request(kid), at=harness.clock.now()))
    await harness.wait_invitation(kid.child_id, "scheduled")
    now = harness.clock.now()
    policy = SendPolicy("test", rate_limited=False, daily_limits={"email": 10**6, "sms": 10**6}, max_attempts=3,
                        retry_base=1.0, retry_max=10.0)  # fmt: skip
    expanded = await expand_due(
        wiring.new_uow(), now, limit=10, catalogue=wiring.catalogue, postpone=timedelta(minutes=1),
        policy=policy, send_limit=2,
    )  # fmt: skip
    assert expanded.found == 1
    rows = await harness.notifications(kid.child_id)
    assert sorted(n.status for n in rows) == ["pending", "sending", "sending"]  # three sends, two claimed
    sending = {n.id: n for n in rows if n.status == "sending"}
    assert {uuid.UUID(n.id) for n in expanded.claimed.notifications} == set(sending)
    assert all(n.attempts == 1 and n.attempt_started_at == now for n in sending.values())
    assert [n.attempts for n in rows if n.status == "pending"] == [0]


async def test_concurrent_daily_grants_from_many_connections_hand_out_exactly_the_limit(notify_database: str) -> None:
    """Eight replicas' worth of connections granting at once, on a day whose row does not exist yet."""
    engines = [create_engine(notify_database, schema="notify", pool_size=1) for _ in range(8)]
    day, limits = date(2031, 5, 5), {"email": 2_000, "sms": 1_500}  # a day no other test sends on
    granted: Counter[str] = Counter()
    wanted: Counter[str] = Counter()
    rng = random.Random(5)

    async def replica(engine: AsyncEngine) -> None:
        sessions = session_factory(engine)
        for _ in range(60):
            ask = {c: n for c in ("email", "sms") if (n := rng.randint(0, 60))}
            wanted.update(ask)
            async with sessions() as session, session.begin():
                granted.update(await SendLimits(session).grant_daily(day, ask, limits))

    try:
        await asyncio.gather(*(replica(e) for e in engines))
    finally:
        for engine in engines:
            await engine.dispose()
    assert all(wanted[c] > limits[c] for c in limits)  # every channel asked for more than its limit
    assert dict(granted) == limits


def _policy(**daily: int) -> SendPolicy:
    return SendPolicy("test", rate_limited=False, daily_limits=daily, max_attempts=3, retry_base=1.0, retry_max=10.0)


async def test_a_channel_whose_day_is_used_up_is_not_claimed_until_midnight(
    start_app: Any, harness: Harness, engine: AsyncEngine
) -> None:
    harness.clock.set(datetime(2031, 3, 11, 10, 0, tzinfo=UTC))  # a day no other test sends on
    app = await start_app(dispatcher_enabled=False)
    kid = await harness.setup_child(parents=[parent()])
    message = parent_message(kid.child_id, kid.team_ods)
    await harness.publish(message)
    await harness.wait_processed(message)
    before = {n.channel: n for n in await harness.notifications(kid.child_id)}
    async with session_factory(engine)() as session, session.begin():
        await SendLimits(session).grant_daily(date(2031, 3, 11), {"email": 5}, {"email": 5})  # the day's emails
    claimed = await claim_sends(app.context.get("wiring").new_uow(), harness.clock.now(), limit=10,
                                policy=_policy(email=5, sms=5))  # fmt: skip
    assert [n.channel for n in claimed.notifications] == ["sms"]
    [email] = [n for n in await harness.notifications(kid.child_id) if n.channel == "email"]
    # Left as it was (not deferred a batch at a time), for the claims after midnight.
    assert (email.status, email.next_attempt_at, email.attempts) == ("pending", before["email"].next_attempt_at, 0)
    harness.clock.set(datetime(2031, 3, 12, 0, 0, tzinfo=UTC))
    claimed = await claim_sends(app.context.get("wiring").new_uow(), harness.clock.now(), limit=10,
                                policy=_policy(email=5, sms=5))  # fmt: skip
    assert [n.channel for n in claimed.notifications] == ["email"]


async def test_nothing_is_claimed_in_the_seconds_before_midnight_utc(start_app: Any, harness: Harness) -> None:
    """A call claimed then could reach the provider after midnight, counted against the next day."""
    harness.clock.set(datetime(2031, 3, 13, 23, 59, 55, tzinfo=UTC))
    app = await start_app(dispatcher_enabled=False)
    kid = await harness.setup_child(parents=[parent()])
    message = parent_message(kid.child_id, kid.team_ods)
    await harness.publish(message)
    await harness.wait_processed(message)
    new_uow = app.context.get("wiring").new_uow
    claimed = await claim_sends(new_uow(), harness.clock.now(), limit=10, policy=_policy(email=5, sms=5))
    assert (claimed.notifications, claimed.wait_seconds) == ([], 5.0)
    assert {n.status for n in await harness.notifications(kid.child_id)} == {"pending"}
    harness.clock.set(datetime(2031, 3, 14, 0, 0, tzinfo=UTC))
    claimed = await claim_sends(new_uow(), harness.clock.now(), limit=10, policy=_policy(email=5, sms=5))
    assert sorted(n.channel for n in claimed.notifications) == ["email", "sms"]
