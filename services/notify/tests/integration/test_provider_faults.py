"""Provider failures: retried with backoff, looked up by reference when ambiguous, never sent twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from notify_stub import Fault, FaultKind, NotifyStub

from ..notify_support import Harness, invite, parent, request

pytestmark = pytest.mark.integration


async def one_email(harness: Harness, *faults: Fault, stub: NotifyStub) -> Any:
    """A child with one parent with only an email, invited due now, the stub primed with `faults`."""
    stub.faults.push(*faults)
    kid = await harness.setup_child(dates=[date(2026, 1, 20)], parents=[parent(phone=False)])
    await harness.publish(invite(request(kid), at=harness.clock.now()))
    return kid


async def attempted(harness: Harness, kid: Any, attempts: int) -> Any:
    async def probe() -> Any:
        rows = await harness.notifications(kid.child_id)
        return rows[0] if rows and rows[0].attempts >= attempts and rows[0].status != "sending" else None

    from testkit import eventually

    return await eventually(probe, timeout=10, what=f"attempt {attempts} recorded")


@pytest.mark.usefixtures("app")
async def test_500_then_success_sends_once(harness: Harness, stub: NotifyStub) -> None:
    kid = await one_email(harness, Fault(FaultKind.ERROR_500), stub=stub)
    first = await attempted(harness, kid, 1)
    assert (first.status, first.needs_lookup) == ("pending", True)
    assert first.next_attempt_at > harness.clock.now()  # backoff, not a hot loop
    harness.clock.advance(timedelta(minutes=5))
    [sent] = await harness.wait_notifications(kid.child_id, "sent", 1)
    assert sent.attempts == 2
    assert [s.reference for s in stub.sent] == [sent.reference]
    assert stub.stats.totals.get("lookup") == 1  # looked up before the resend


@pytest.mark.usefixtures("app")
async def test_accepted_then_dropped_is_found_by_reference_not_resent(harness: Harness, stub: NotifyStub) -> None:
    kid = await one_email(harness, Fault(FaultKind.ACCEPT_THEN_DROP), stub=stub)
    await attempted(harness, kid, 1)
    harness.clock.advance(timedelta(minutes=5))
    [sent] = await harness.wait_notifications(kid.child_id, "sent", 1)
    [accepted] = stub.sent
    assert (sent.provider_id, sent.reference) == (accepted.id, accepted.reference)
    assert stub.stats.totals.get("accepted", 0) == 0  # the only POST was the dropped one
    await harness.observer.wait_for("NotificationsSent", kid.child_id)


@pytest.mark.usefixtures("app")
async def test_400_is_a_permanent_failure(harness: Harness, stub: NotifyStub) -> None:
    kid = await one_email(harness, Fault(FaultKind.ERROR_400), stub=stub)
    [failed] = await harness.wait_notifications(kid.child_id, "permanent-failure", 1)
    assert failed.attempts == 1 and "400" in failed.last_error
    [event] = await harness.observer.wait_for("NotificationsSettled", kid.child_id)
    assert event["status"] == "permanent-failure" and "400" in event["reason"]
    assert (await harness.wait_invitation(kid.child_id, "failed")).programmes == ["flu"]


@pytest.mark.usefixtures("app")
async def test_429_is_retried_without_a_lookup(harness: Harness, stub: NotifyStub) -> None:
    kid = await one_email(harness, Fault(FaultKind.ERROR_429, retry_after=30), stub=stub)
    first = await attempted(harness, kid, 1)
    assert (first.status, first.needs_lookup) == ("pending", False)
    assert first.next_attempt_at >= harness.clock.now() + timedelta(seconds=30)  # Retry-After is a floor
    harness.clock.advance(timedelta(minutes=5))
    await harness.wait_notifications(kid.child_id, "sent", 1)
    assert "lookup" not in stub.stats.totals and len(stub.sent) == 1


async def test_gives_up_after_max_attempts(start_app: Any, harness: Harness, stub: NotifyStub) -> None:
    await start_app(max_attempts=2)
    kid = await one_email(harness, Fault(FaultKind.ERROR_500), Fault(FaultKind.ERROR_500), stub=stub)
    await attempted(harness, kid, 1)
    harness.clock.advance(timedelta(minutes=5))
    [failed] = await harness.wait_notifications(kid.child_id, "technical-failure", 1)
    assert failed.last_error.startswith("gave up after 2")
    [event] = await harness.observer.wait_for("NotificationsSettled", kid.child_id)
    assert event["status"] == "technical-failure" and event["reason"].startswith("gave up after 2")


async def crash_mid_attempt(harness: Harness, notification_id: Any, *, reference: str | None = None) -> None:
    """Put a sent row back as a replica that died mid-call leaves it: `sending`, begun long ago, unrecorded."""
    async with harness.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE notifications SET status = 'sending', provider_id = NULL, sent_at = NULL,"
                " attempt_started_at = :long_ago, reference = COALESCE(:reference, reference) WHERE id = :id"
            ),
            {"id": notification_id, "long_ago": harness.clock.now() - timedelta(minutes=10), "reference": reference},
        )


@pytest.mark.usefixtures("app")
async def test_attempt_of_a_crashed_replica_is_looked_up_not_resent(harness: Harness, stub: NotifyStub) -> None:
    kid = await one_email(harness, stub=stub)
    [sent] = await harness.wait_notifications(kid.child_id, "sent", 1)
    await crash_mid_attempt(harness, sent.id)  # the provider has it; our record of that was lost
    [recovered] = await harness.wait_notifications(kid.child_id, "sent", 1)
    assert recovered.provider_id == sent.provider_id and recovered.attempts == 2
    assert len(stub.sent) == 1 and stub.stats.totals.get("lookup") == 1


@pytest.mark.usefixtures("app")
async def test_attempt_that_never_reached_the_provider_is_sent_after_the_lookup(
    harness: Harness, stub: NotifyStub
) -> None:
    kid = await one_email(harness, stub=stub)
    [sent] = await harness.wait_notifications(kid.child_id, "sent", 1)
    await crash_mid_attempt(harness, sent.id, reference="never-reached-the-provider")
    [resent] = await harness.wait_notifications(kid.child_id, "sent", 1)
    assert resent.provider_id != sent.provider_id
    assert [s.reference for s in stub.sent] == [sent.reference, "never-reached-the-provider"]


async def test_a_refused_send_gives_its_daily_grant_back(start_app: Any, harness: Harness, stub: NotifyStub) -> None:
    """GOV.UK Notify counts the messages it accepts: a 429 spends nothing of the day's limit."""
    harness.clock.set(datetime(2031, 3, 17, 10, 0, tzinfo=UTC))  # a day no other test sends on
    await start_app(daily_email_limit=5)
    stub.faults.push(Fault(FaultKind.ERROR_429, retry_after=30), Fault(FaultKind.ERROR_429, retry_after=30))
    kid = await harness.setup_child(dates=[date(2031, 3, 20)], parents=[parent(phone=False)])
    await harness.publish(invite(request(kid), at=harness.clock.now()))
    await attempted(harness, kid, 1)
    assert await _sent_today(harness) == 0
    harness.clock.advance(timedelta(minutes=5))
    await attempted(harness, kid, 2)
    harness.clock.advance(timedelta(minutes=5))
    [sent] = await harness.wait_notifications(kid.child_id, "sent", 1)
    assert sent.attempts == 3 and await _sent_today(harness) == 1


async def _sent_today(harness: Harness) -> int:
    rows = await harness.query("SELECT sent FROM daily_sends WHERE day = :d AND channel = 'email'", d=date(2031, 3, 17))
    return int(rows[0].sent) if rows else 0
