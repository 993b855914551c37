"""The invitation ledger: redeliveries, repeated bulk sends and overlapping requests never invite twice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from contracts.cohort import InvitationKind, InvitationTrigger
from contracts.common import Programme
from notify_stub import NotifyStub

from ..notify_support import Harness, invite, request

pytestmark = pytest.mark.integration

SOON = [date(2026, 1, 20)]  # within 21 days: due at once


@pytest.mark.usefixtures("app")
async def test_same_invite_delivered_three_times_sends_each_parent_and_channel_once(
    harness: Harness, stub: NotifyStub
) -> None:
    kid = await harness.setup_child(dates=SOON)
    command = invite(request(kid, programmes=[Programme.FLU, Programme.HPV]), at=harness.clock.now())
    await harness.publish(command, times=3)
    sent = await harness.wait_notifications(kid.child_id, "sent", 3)  # parent 1 email + sms, parent 2 email
    assert len(await harness.invitations(kid.child_id)) == 1
    assert [row.programme for row in await harness.ledger(kid.child_id)] == ["flu", "hpv"]
    assert sorted(n.channel for n in sent) == ["email", "email", "sms"]
    assert sorted(s.to for s in stub.sent) == sorted(n.to for n in sent)
    assert len({s.reference for s in stub.sent}) == len(stub.sent) == 3


@pytest.mark.usefixtures("app")
async def test_repeated_bulk_send_invites_nobody_twice(harness: Harness, stub: NotifyStub) -> None:
    kids = await harness.setup_children(3, dates=SOON)
    first = invite(*(request(k) for k in kids), at=harness.clock.now())
    await harness.publish(first)
    for kid in kids:
        await harness.wait_notifications(kid.child_id, "sent", 3)
    again = invite(*(request(k) for k in kids), at=harness.clock.now() + timedelta(minutes=5))
    await harness.publish(again)
    await harness.wait_processed(again)
    for kid in kids:
        assert len(await harness.invitations(kid.child_id)) == 1
    assert len(stub.sent) == 9
    assert len(await harness.observer.wait_for("InvitationsScheduled")) == 1


@pytest.mark.usefixtures("app")
async def test_initial_request_only_adds_programmes_not_yet_invited(harness: Harness) -> None:
    kid = await harness.setup_child()  # no dates: invitations wait, nothing is sent
    flu = invite(request(kid, programmes=[Programme.FLU]), at=harness.clock.now())
    both = invite(request(kid, programmes=[Programme.FLU, Programme.HPV]), at=harness.clock.now())
    in_one_batch = invite(
        request(kid, programmes=[Programme.MMR]), request(kid, programmes=[Programme.MMR]), at=harness.clock.now()
    )
    for command in (flu, both, in_one_batch):
        await harness.publish(command)
        await harness.wait_processed(command)
    invitations = await harness.invitations(kid.child_id)
    assert sorted(tuple(i.programmes) for i in invitations) == [("flu",), ("hpv",), ("mmr",)]
    assert [r.programme for r in await harness.ledger(kid.child_id)] == ["flu", "hpv", "mmr"]


@pytest.mark.usefixtures("app")
async def test_staff_repeat_is_a_new_subsequent_invitation(harness: Harness, stub: NotifyStub) -> None:
    kid = await harness.setup_child(dates=SOON)
    first = invite(request(kid), at=harness.clock.now())
    await harness.publish(first)
    await harness.wait_notifications(kid.child_id, "sent", 3)
    repeat = invite(
        request(kid, trigger=InvitationTrigger.STAFF, kind=InvitationKind.SUBSEQUENT), at=harness.clock.now()
    )
    await harness.publish(repeat, times=2)
    await harness.wait_processed(repeat)
    invitations = await harness.invitations(kid.child_id)
    assert [(i.kind, i.status) for i in invitations] == [("initial", "sent"), ("subsequent", "scheduled")]
    harness.clock.advance(timedelta(days=1))  # staff invitations go the next morning
    sent = await harness.wait_notifications(kid.child_id, "sent", 6)
    assert sorted(n.kind for n in sent).count("clinic_subsequent_invitation") == 3
    assert len(stub.sent) == 6


@pytest.mark.usefixtures("app")
async def test_cancelled_unsent_invitation_frees_its_programmes(harness: Harness) -> None:
    from contracts.cohort import ChildRemovedFromClinicCohort

    kid = await harness.setup_child()
    first = invite(request(kid), at=harness.clock.now())
    await harness.publish(first)
    await harness.wait_processed(first)
    left = ChildRemovedFromClinicCohort(
        child_id=kid.child_id,
        team_ods=kid.team_ods,
        academic_year=2025,
        reason="moved",
        occurred_at=harness.clock.now(),
    )
    await harness.publish(left)
    await harness.wait_invitation(kid.child_id, "cancelled")
    assert await harness.ledger(kid.child_id) == []
    back = invite(request(kid), at=harness.clock.now() + timedelta(hours=1))
    await harness.publish(back)
    await harness.wait_invitation(kid.child_id, "waiting")
