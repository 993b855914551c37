"""Send limits in PostgreSQL: the shared token bucket under contention, daily caps, and the sending window."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from msgkit.db import session_factory
from msgkit.testing import eventually
from notify.limits import SendLimits
from notify.sending import SendPolicy, expand_due
from notify.timing import BucketShape

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
    assert taken >= shape.capacity + shape.refill_per_second * 0.8  # and the bucket is actually used


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
    assert spilled.next_attempt_at == datetime(2031, 3, 4, tzinfo=UTC) and spilled.attempts == 0
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
    assert spilled.next_attempt_at == datetime(2031, 3, 6, tzinfo=UTC) and spilled.attempts == 0


async def test_expanding_claims_what_may_go_now_up_to_the_send_limit(start_app: Any, harness: Harness) -> None:
    app = await start_app(dispatcher_enabled=False)
    runtime = app.context.get("runtime")
    kid = await harness.setup_child(
        dates=[harness.clock.now().date() + timedelta(days=3)], parents=[parent(), parent(phone=False)]
    )
    await harness.publish(invite(request(kid), at=harness.clock.now()))
    await harness.wait_invitation(kid.child_id, "scheduled")
    now = harness.clock.now()
    policy = SendPolicy("test", rate_limited=False, daily_limits={"email": 10**6, "sms": 10**6}, max_attempts=3,
                        retry_base=1.0, retry_max=10.0)  # fmt: skip
    extras = runtime.extras
    expanded = await expand_due(
        extras["uow"](), now, limit=10, catalogue=extras["catalogue"], postpone=timedelta(minutes=1),
        policy=policy, send_limit=2,
    )  # fmt: skip
    assert expanded.found == 1
    rows = await harness.notifications(kid.child_id)
    assert sorted(n.status for n in rows) == ["pending", "sending", "sending"]  # three sends, two claimed
    sending = {n.id: n for n in rows if n.status == "sending"}
    assert {uuid.UUID(n.id) for n in expanded.claimed.notifications} == set(sending)
    assert all(n.attempts == 1 and n.attempt_started_at == now for n in sending.values())
    assert [n.attempts for n in rows if n.status == "pending"] == [0]
