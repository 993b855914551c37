"""A staff repeat (*Invite to community clinic* again) before the earlier invitation was sent makes nothing."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from contracts.cohort import InvitationKind, InvitationTrigger
from notify_stub import NotifyStub

from ..notify_support import Harness, invite, request

pytestmark = pytest.mark.integration

SOON = [date(2026, 1, 20)]


@pytest.mark.usefixtures("app")
async def test_a_repeat_while_the_first_is_unsent_changes_nothing_then_counts_once_sent(
    harness: Harness, stub: NotifyStub
) -> None:
    kid = await harness.setup_child(dates=SOON)
    staff, repeat = InvitationTrigger.STAFF, InvitationKind.SUBSEQUENT
    first = invite(request(kid, trigger=staff), at=harness.clock.now())  # due at tomorrow's opening
    await harness.publish(first)
    await harness.wait_processed(first)
    clicks = [invite(request(kid, trigger=staff, kind=repeat), at=harness.clock.now()) for _ in range(2)]
    both = invite(*(request(kid, trigger=staff, kind=repeat) for _ in range(2)), at=harness.clock.now())
    for command in (*clicks, both):
        await harness.publish(command, times=2)
        await harness.wait_processed(command)
    assert [(i.kind, i.status) for i in await harness.invitations(kid.child_id)] == [("initial", "scheduled")]

    harness.clock.advance(timedelta(days=1))
    await harness.wait_notifications(kid.child_id, "sent", 3)
    await harness.wait_invitation(kid.child_id, "sent")
    # Sent: the next repeat is made, once however many clicks arrive together (and redelivered).
    later = [invite(request(kid, trigger=staff, kind=repeat), at=harness.clock.now()) for _ in range(4)]
    await asyncio.gather(*(harness.publish(command, times=2) for command in later))
    for command in later:
        await harness.wait_processed(command)
    invitations = await harness.invitations(kid.child_id)
    assert sorted((i.kind, i.status) for i in invitations) == [("initial", "sent"), ("subsequent", "scheduled")]
    assert len(stub.sent) == 3
