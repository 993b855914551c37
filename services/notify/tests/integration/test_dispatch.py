"""The dispatcher: eligibility re-checked before sending, contact details at send time, and latency."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.cohort import ChildRemovedFromClinicCohort, ChildrenUpserted
from contracts.common import Programme
from contracts.consent import ConsentRecorded, ConsentResponse, ConsentRoute, ConsentStatus
from contracts.sessions import SessionKind, VaccinationOutcome, VaccinationRecorded
from notify_stub import NotifyStub
from testkit import eventually

from ..notify_support import Harness, child, invite, parent, request

pytestmark = pytest.mark.integration

LATER = [date(2026, 3, 1)]  # invitations due 8 February at 09:00
DUE = datetime(2026, 2, 8, 9, 0, tzinfo=UTC)


def vaccinated(kid_id: uuid.UUID, team: str, programme: Programme = Programme.FLU) -> VaccinationRecorded:
    return VaccinationRecorded(
        record_id=uuid.uuid4(), child_id=kid_id, team_ods=team, programme=programme, session_id=uuid.uuid4(),
        session_kind=SessionKind.SCHOOL, academic_year=2025, outcome=VaccinationOutcome.VACCINATED,
        performed_at=datetime(2026, 1, 12, 9, 0, tzinfo=UTC), recorded_by="nurse",
    )  # fmt: skip


def refused(kid_id: uuid.UUID, team: str, programme: Programme = Programme.FLU) -> ConsentRecorded:
    return ConsentRecorded(
        consent_id=uuid.uuid4(), child_id=kid_id, team_ods=team, programme=programme, academic_year=2025,
        response=ConsentResponse.REFUSED, route=ConsentRoute.PHONE, recorded_by="nurse",
        recorded_at=datetime(2026, 1, 12, 9, 30, tzinfo=UTC), status=ConsentStatus.REFUSED,
    )  # fmt: skip


async def scheduled(harness: Harness, programmes: list[Programme] | None = None, **child_kw):  # type: ignore[no-untyped-def]
    kid = await harness.setup_child(dates=LATER, **child_kw)
    command = invite(request(kid, programmes=programmes or [Programme.FLU]), at=harness.clock.now())
    await harness.publish(command)
    await harness.wait_invitation(kid.child_id, "scheduled")
    return kid


async def reach_due_time(harness: Harness) -> None:
    harness.clock.set(DUE + timedelta(minutes=1))


async def dispatcher_has_moved_on(harness: Harness) -> None:
    """Invite one more child due now and wait for it: anything due earlier has been dealt with by then."""
    probe = await harness.setup_child(dates=[harness.clock.now().date() + timedelta(days=3)])
    await harness.publish(invite(request(probe), at=harness.clock.now()))
    await harness.wait_notifications(probe.child_id, "sent", 3)


@pytest.mark.usefixtures("app")
async def test_due_now_invitation_reaches_the_provider_within_milliseconds(harness: Harness, stub: NotifyStub) -> None:
    kid = await harness.setup_child(dates=[date(2026, 1, 20)])
    started = time.perf_counter()
    await harness.publish(invite(request(kid), at=harness.clock.now()))
    await harness.wait_notifications(kid.child_id, "sent", 3)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"handed to the provider in {elapsed:.3f}s"
    sent_events = await harness.observer.wait_for("NotificationsSent", kid.child_id, count=3)
    assert sorted(e["recipient"] for e in sent_events) == sorted(s.to for s in stub.sent)
    assert {e["kind"] for e in sent_events} == {"clinic_initial_invitation"}
    assert (await harness.wait_invitation(kid.child_id, "sent")).programmes == ["flu"]
    assert stub.sent[0].personalisation["child_full_name"] == "Ada Lovelace"
    assert stub.sent[0].personalisation["booking_link"] == "https://book.example.com/leeds"


@pytest.mark.usefixtures("app")
async def test_a_due_now_invitation_is_expanded_in_the_transaction_that_schedules_it(harness: Harness) -> None:
    kid = await harness.setup_child(dates=[date(2026, 1, 20)])
    await harness.publish(invite(request(kid), at=harness.clock.now()))
    sent = await harness.wait_notifications(kid.child_id, "sent", 3)
    [invitation] = await harness.invitations(kid.child_id)
    # now() is the transaction's start: the same instant means the same transaction.
    assert {n.created_at for n in sent} == {invitation.created_at}


@pytest.mark.usefixtures("app")
async def test_vaccinated_before_due_time_is_cancelled_not_sent(harness: Harness, stub: NotifyStub) -> None:
    kid = await scheduled(harness)
    await harness.publish(vaccinated(kid.child_id, kid.team_ods))
    invitation = await harness.wait_invitation(kid.child_id, "cancelled")
    assert invitation.cancel_reason == "vaccinated"
    [event] = await harness.observer.wait_for("InvitationCancelled", kid.child_id)
    assert event["reason"] == "vaccinated"
    await reach_due_time(harness)
    await dispatcher_has_moved_on(harness)
    assert await harness.notifications(kid.child_id) == []
    assert not {p.email for p in kid.parents} & {s.to for s in stub.sent}


@pytest.mark.usefixtures("app")
async def test_consent_refused_cancels(harness: Harness) -> None:
    kid = await scheduled(harness)
    await harness.publish(refused(kid.child_id, kid.team_ods))
    invitation = await harness.wait_invitation(kid.child_id, "cancelled")
    assert invitation.cancel_reason == "consent refused"


@pytest.mark.usefixtures("app")
async def test_settled_programmes_are_dropped_from_the_message(harness: Harness, stub: NotifyStub) -> None:
    kid = await scheduled(harness, [Programme.FLU, Programme.HPV, Programme.MMR])
    for message in (vaccinated(kid.child_id, kid.team_ods, Programme.HPV), refused(kid.child_id, kid.team_ods)):
        await harness.publish(message)
        await harness.wait_processed(message)
    assert (await harness.invitations(kid.child_id))[0].status == "scheduled"
    await reach_due_time(harness)
    await harness.wait_notifications(kid.child_id, "sent", 3)
    assert {s.personalisation["programmes"] for s in stub.sent} == {"MMR"}


@pytest.mark.usefixtures("app")
async def test_leaving_the_cohort_cancels(harness: Harness) -> None:
    kid = await scheduled(harness)
    left = ChildRemovedFromClinicCohort(
        child_id=kid.child_id, team_ods=kid.team_ods, academic_year=2025, reason="moved school"
    )
    await harness.publish(left)
    assert (await harness.wait_invitation(kid.child_id, "cancelled")).cancel_reason == "left the clinic cohort"


@pytest.mark.parametrize("flag", ["deceased", "restricted", "invalidated", "archived"])
@pytest.mark.usefixtures("app")
async def test_do_not_contact_flags_cancel(harness: Harness, flag: str) -> None:
    kid = await scheduled(harness)
    flagged = kid.model_copy(update={flag: True})
    await harness.publish(ChildrenUpserted(children=[flagged], occurred_at=harness.clock.now() + timedelta(seconds=1)))
    assert (await harness.wait_invitation(kid.child_id, "cancelled")).cancel_reason == flag


@pytest.mark.usefixtures("app")
async def test_no_contactable_parents_at_send_time_cancels(harness: Harness, stub: NotifyStub) -> None:
    kid = await scheduled(harness, parents=[parent(email=False, phone=False)])
    await reach_due_time(harness)
    assert (await harness.wait_invitation(kid.child_id, "cancelled")).cancel_reason == "no contactable parents"
    assert await harness.notifications(kid.child_id) == []


@pytest.mark.usefixtures("app")
async def test_contact_details_are_those_current_at_send_time(harness: Harness, stub: NotifyStub) -> None:
    kid = await scheduled(harness)
    moved = parent(phone=False)
    update = kid.model_copy(update={"parents": [moved]})
    message = ChildrenUpserted(children=[update], occurred_at=harness.clock.now() + timedelta(seconds=1))
    await harness.publish(message)
    await harness.wait_processed(message)
    await reach_due_time(harness)
    [sent] = await harness.wait_notifications(kid.child_id, "sent", 1)
    assert sent.to == moved.email and [s.to for s in stub.sent] == [moved.email]


@pytest.mark.usefixtures("app")
async def test_invitation_for_a_child_not_yet_known_waits_instead_of_being_lost(harness: Harness) -> None:
    await harness.setup_child(dates=[date(2026, 1, 20)])  # the team and its dates
    unknown = child(harness.team)
    await harness.publish(invite(request(unknown), at=harness.clock.now()))
    [scheduled] = await harness.observer.wait_for("InvitationsScheduled", unknown.child_id)
    assert scheduled["due_at"] == "2026-01-12T10:00:00Z"  # due now

    async def postponed() -> bool:  # found due without the child's details: kept, and tried again later
        [row] = await harness.invitations(unknown.child_id)
        return bool(row.status == "scheduled" and row.due_at == datetime(2026, 1, 12, 10, 5, tzinfo=UTC))

    await eventually(postponed, what="the invitation postponed")
    arrived = ChildrenUpserted(children=[unknown], occurred_at=harness.clock.now())
    await harness.publish(arrived)
    await harness.wait_processed(arrived)
    harness.clock.advance(timedelta(minutes=6))
    await harness.wait_notifications(unknown.child_id, "sent", 3)
