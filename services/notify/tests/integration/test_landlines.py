"""Texts go only to mobiles: a landline gets no SMS, and a parent with only a landline cannot be reached."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from contracts.cohort import ParentContact
from notify_stub import NotifyStub

from ..notify_support import Harness, invite, parent, request

pytestmark = pytest.mark.integration

SOON = [date(2026, 1, 20)]  # due at once
LANDLINE = "0113 496 0123"


def landline_parent(*, email: bool = False) -> ParentContact:
    pid = uuid.uuid4()
    return ParentContact(parent_id=pid, email=f"p{pid.hex[:10]}@example.com" if email else None, phone=LANDLINE)


@pytest.mark.usefixtures("app")
async def test_a_landline_gets_no_text_and_a_landline_only_family_is_not_contactable(
    harness: Harness, stub: NotifyStub
) -> None:
    home, mobile = landline_parent(email=True), parent(email=False)
    reachable = await harness.setup_child(dates=SOON, parents=[home, mobile])
    unreachable = await harness.setup_child(dates=SOON, parents=[landline_parent()])
    command = invite(request(reachable), request(unreachable), at=harness.clock.now())
    await harness.publish(command)

    sent = await harness.wait_notifications(reachable.child_id, "sent", 2)
    assert sorted((n.channel, n.to) for n in sent) == sorted([("email", home.email), ("sms", mobile.phone)])
    cancelled = await harness.wait_invitation(unreachable.child_id, "cancelled")
    assert cancelled.cancel_reason == "no contactable parents"
    assert await harness.notifications(unreachable.child_id) == []
    assert LANDLINE.replace(" ", "") not in {s.to.replace(" ", "") for s in stub.sent}
