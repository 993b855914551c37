"""The events notify builds from notifications whose status just changed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from contracts.common import MAX_BATCH
from notify import events
from notify.notification_repository import Settled

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
