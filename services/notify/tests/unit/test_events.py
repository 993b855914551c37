"""The events notify builds from notifications whose status just changed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from contracts.common import MAX_BATCH
from contracts.notify import InvitationsScheduled
from notify.delivery import events
from notify.domain.invitations import Invitation
from notify.ledger import retiming
from notify.persistence.notifications import Settled

pytestmark = pytest.mark.unit

AT = datetime(2026, 1, 12, 9, tzinfo=UTC)


def settled(n: int) -> Settled:
    return Settled(
        id=str(uuid.uuid4()), invitation_id=str(uuid.uuid4()), child_id=str(uuid.uuid4()), parent_id=None,
        team_ods="RXX", kind="clinic_initial_invitation", channel="sms" if n % 2 else "email",
        to=f"p{n}@example.com" if n % 2 == 0 else "07700 900123",
    )  # fmt: skip


def test_a_batch_of_sends_is_one_event_listing_each() -> None:
    batch = [settled(n) for n in range(3)]
    [event] = events.sent(batch, AT)
    assert [str(n.notification_id) for n in event.notifications] == [s.id for s in batch]
    assert [n.recipient for n in event.notifications] == [s.to for s in batch]
    assert {n.sent_at for n in event.notifications} == {AT}


def test_more_sends_than_a_message_may_carry_are_split() -> None:
    batch = [settled(n) for n in range(MAX_BATCH + 1)]
    sizes = [len(e.notifications) for e in events.sent(batch, AT)]
    assert sizes == [MAX_BATCH, 1]


def test_nothing_sent_publishes_nothing() -> None:
    assert list(events.sent([], AT)) == []


def test_settled_outcomes_are_one_event_with_each_status_and_reason() -> None:
    delivered, failed = settled(0), settled(1)
    outcomes = [events.Outcome(delivered, "delivered"), events.Outcome(failed, "permanent-failure", "provider said")]
    [event] = events.settled(outcomes, AT)
    assert [(str(n.notification_id), n.status.value, n.reason) for n in event.notifications] == [
        (delivered.id, "delivered", None),
        (failed.id, "permanent-failure", "provider said"),
    ]
    assert {n.settled_at for n in event.notifications} == {AT}
    assert list(events.settled([], AT)) == []


def invitation(n: int, *, due: datetime | None) -> Invitation:
    item = Invitation(
        id=str(uuid.uuid4()), child_id=str(uuid.uuid4()), team_ods="RXX", academic_year=2025,
        programmes=("flu", "hpv") if n % 2 else ("flu",), kind="initial", trigger="automatic",
        reason="home_educated", requested_at=AT, requested_by=None,
    )  # fmt: skip
    item.schedule(due)
    return item


def test_scheduled_rows_read_back_as_the_contract_says_in_batches() -> None:
    items = [invitation(n, due=AT if n % 3 else None) for n in range(MAX_BATCH + 2)]
    rows = retiming.scheduled_rows(items, None)
    decoded = [InvitationsScheduled.model_validate_json(row["body"]) for row in rows]  # type: ignore[arg-type]
    assert [len(d.invitations) for d in decoded] == [MAX_BATCH, 2]
    first = decoded[0].invitations[1]
    assert (str(first.invitation_id), str(first.child_id), first.due_at) == (items[1].id, items[1].child_id, AT)
    assert [p.value for p in first.programmes] == ["flu", "hpv"]
    assert decoded[0].invitations[0].due_at is None
    assert all(row["routing_key"] == "notify.invitations_scheduled" for row in rows)
    assert rows[0]["message_id"] == decoded[0].message_id
    assert b'"due_at":"2026-01-12T09:00:00Z"' in rows[0]["body"]  # type: ignore[operator]
