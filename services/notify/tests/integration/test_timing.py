"""When invitations fall due, through the running service: days before, staff next day, window, BST, re-timing."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from contracts.cohort import InvitationTrigger
from contracts.sessions import ClinicDate, ClinicDatesChanged

from ..notify_support import Harness, clinic_dates, invite, request, team_updated

pytestmark = pytest.mark.integration


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def invited(harness: Harness, dates: list[date], trigger: InvitationTrigger = InvitationTrigger.AUTOMATIC):
    kid = await harness.setup_child(dates=dates)
    command = invite(request(kid, trigger=trigger), at=harness.clock.now())
    await harness.publish(command)
    await harness.wait_processed(command)
    [invitation] = await harness.invitations(kid.child_id)
    return kid, invitation


@pytest.mark.usefixtures("app")
async def test_due_days_before_the_first_clinic_date_at_window_opening(harness: Harness) -> None:
    _, invitation = await invited(harness, [date(2026, 3, 1), date(2026, 3, 8)])
    assert invitation.status == "scheduled"
    assert invitation.due_at == utc(2026, 2, 8, 9, 0)  # 21 days before, 09:00 GMT


@pytest.mark.usefixtures("app")
async def test_due_time_after_the_clocks_go_forward_is_0900_bst(harness: Harness) -> None:
    _, invitation = await invited(harness, [date(2026, 4, 20)])
    assert invitation.due_at == utc(2026, 3, 30, 8, 0)  # 30 March is BST: 09:00 London is 08:00 UTC


@pytest.mark.usefixtures("app")
async def test_joining_later_than_the_invitation_point_is_due_now(harness: Harness) -> None:
    kid, invitation = await invited(harness, [date(2026, 1, 20)])
    assert invitation.due_at == harness.clock.now()
    scheduled = await harness.observer.wait_for("InvitationsScheduled", kid.child_id)
    assert scheduled[0]["due_at"] == "2026-01-12T10:00:00Z"


@pytest.mark.usefixtures("app")
async def test_staff_invitation_goes_out_next_day_at_window_opening(harness: Harness) -> None:
    _, invitation = await invited(harness, [date(2026, 1, 20)], InvitationTrigger.STAFF)
    assert invitation.due_at == utc(2026, 1, 13, 9, 0)


@pytest.mark.usefixtures("app")
async def test_staff_invitation_goes_out_next_day_whatever_the_first_date(harness: Harness) -> None:
    # Seven weeks away: an automatic join would wait for 21 days before; a staff one is told "the next day".
    _, invitation = await invited(harness, [date(2026, 3, 2)], InvitationTrigger.STAFF)
    assert invitation.due_at == utc(2026, 1, 13, 9, 0)


@pytest.mark.usefixtures("app")
async def test_due_outside_the_sending_window_moves_to_next_opening(harness: Harness) -> None:
    harness.clock.set(utc(2026, 1, 12, 19, 30))  # 19:30 London: the window closed at 19:00
    _, invitation = await invited(harness, [date(2026, 1, 20)])
    assert invitation.due_at == utc(2026, 1, 13, 9, 0)


@pytest.mark.usefixtures("app")
async def test_changed_team_settings_retime_unsent_invitations(harness: Harness) -> None:
    kid, invitation = await invited(harness, [date(2026, 3, 1)])
    assert invitation.due_at == utc(2026, 2, 8, 9, 0)
    settings = {"days_before_invitations": 7, "send_window_start": "10:30", "send_window_end": "16:00"}
    retimed = team_updated(harness.team, at=harness.clock.now(), **settings)
    await harness.publish(retimed)
    await harness.wait_processed(retimed)
    [invitation] = await harness.invitations(kid.child_id)
    assert invitation.due_at == utc(2026, 2, 22, 10, 30)  # 7 days before, at the team's own 10:30


@pytest.mark.usefixtures("app")
async def test_no_dates_waits_then_is_scheduled_and_retimed_as_dates_change(harness: Harness) -> None:
    kid, invitation = await invited(harness, [])
    assert (invitation.status, invitation.due_at) == ("waiting", None)
    session = uuid.uuid4()
    steps = [
        ([date(2026, 3, 1)], "scheduled", utc(2026, 2, 8, 9, 0)),
        ([date(2026, 3, 15), date(2026, 3, 22)], "scheduled", utc(2026, 2, 22, 9, 0)),
        ([], "waiting", None),
    ]
    for dates, status, due in steps:
        moved = clinic_dates(harness.team, dates, at=harness.clock.now(), session=session)
        await harness.publish(moved)
        await harness.wait_processed(moved)
        [invitation] = await harness.invitations(kid.child_id)
        assert (invitation.status, invitation.due_at) == (status, due)
    published = await harness.observer.wait_for("InvitationsScheduled", kid.child_id, count=4)
    assert [p["due_at"] for p in published] == [None, "2026-02-08T09:00:00Z", "2026-02-22T09:00:00Z", None]


@pytest.mark.usefixtures("app")
async def test_a_past_clinic_date_is_not_upcoming(harness: Harness) -> None:
    _, invitation = await invited(harness, [date(2026, 1, 5), date(2026, 1, 12), date(2026, 2, 20)])
    assert invitation.due_at == utc(2026, 1, 30, 9, 0)  # from 20 February: 5 and 12 January are not upcoming


@pytest.mark.usefixtures("app")
async def test_only_clinics_offering_the_programme_time_the_invitation(harness: Harness) -> None:
    kid = await harness.setup_child()
    hpv_clinic = ClinicDatesChanged(
        session_id=uuid.uuid4(),
        team_ods=harness.team,
        programmes=["hpv"],
        academic_year=2025,
        dates=[ClinicDate(on=date(2026, 1, 20))],
        first_upcoming_date=date(2026, 1, 20),
        last_date=date(2026, 1, 20),
    )
    flu_clinic = clinic_dates(harness.team, [date(2026, 3, 1)], at=harness.clock.now())
    for message in (hpv_clinic, flu_clinic):
        await harness.publish(message)
        await harness.wait_processed(message)
    command = invite(request(kid), at=harness.clock.now())
    await harness.publish(command)
    await harness.wait_processed(command)
    [invitation] = await harness.invitations(kid.child_id)
    assert invitation.due_at == utc(2026, 2, 8, 9, 0)
