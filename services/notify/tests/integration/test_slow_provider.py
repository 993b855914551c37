"""A provider slower than notify's timeout: the lookup before a resend waits until it can no longer be working.

GOV.UK Notify goes on with a request whose client has gone. The stub's "accepted after the client gave up"
fault holds the request until notify's client times out, then takes the message a while later: a lookup in
between finds nothing, and a resend would be the same message twice.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest

from notify.delivery.govuk_notify import GovUkNotifyProvider
from notify_stub import Fault, FaultKind, NotifyStub
from testkit import eventually

from ..notify_support import API_KEY, Harness, invite, parent, request

pytestmark = pytest.mark.integration

TIMEOUT = 1.0  # notify's client gives up after this long
LATE = 1.5  # and the provider takes the message this long after that
IN_FLIGHT = 30.0  # NOTIFY_PROVIDER_IN_FLIGHT_SECONDS: longer than any provider in this test keeps working


@pytest.fixture
async def slow_client(stub: NotifyStub) -> AsyncIterator[GovUkNotifyProvider]:
    async with GovUkNotifyProvider(API_KEY, stub.url, timeout=TIMEOUT) as provider:
        yield provider


async def attempt_recorded(harness: Harness, kid: Any, attempts: int) -> Any:
    async def probe() -> Any:
        rows = await harness.notifications(kid.child_id)
        return rows[0] if rows and rows[0].attempts >= attempts and rows[0].status != "sending" else None

    return await eventually(probe, timeout=15, what=f"attempt {attempts} recorded")


async def test_a_late_acceptance_is_found_by_a_lookup_after_the_in_flight_bound_never_resent(
    start_app: Any, harness: Harness, stub: NotifyStub, slow_client: GovUkNotifyProvider
) -> None:
    await start_app(with_provider=slow_client, provider_in_flight_seconds=IN_FLIGHT)
    # The first send is lost outright (a timeout, nothing taken); the resend is taken after notify gave up.
    stub.faults.push(Fault(FaultKind.TIMEOUT, seconds=TIMEOUT + 0.5), Fault(FaultKind.ACCEPT_AFTER_GIVE_UP, LATE))
    kid = await harness.setup_child(dates=[date(2026, 1, 20)], parents=[parent(phone=False)])
    await harness.publish(invite(request(kid), at=harness.clock.now()))

    began = time.monotonic()
    for attempts in (1, 2):
        row = await attempt_recorded(harness, kid, attempts)
        assert (row.status, row.needs_lookup) == ("pending", True)
        # No lookup while the provider may still be taking the message (~4 s before this rule: a resend).
        assert row.next_attempt_at >= harness.clock.now() + timedelta(seconds=IN_FLIGHT)
        if attempts == 2:  # as the in-flight bound elapses, the slow provider finishes
            await eventually(lambda: _taken(stub), timeout=10, what="the late acceptance")
        harness.clock.set(row.next_attempt_at)

    [sent] = await harness.wait_notifications(kid.child_id, "sent", 1)
    [taken] = stub.sent
    assert (sent.provider_id, sent.reference, sent.attempts) == (taken.id, taken.reference, 3)
    assert stub.stats.totals.get("lookup") == 2  # looked up before the resend, and again before the next
    print(f"slow provider: one message in {time.monotonic() - began:.1f} s, lookups {stub.stats.totals['lookup']}")


async def _taken(stub: NotifyStub) -> bool:
    return bool(stub.sent)
