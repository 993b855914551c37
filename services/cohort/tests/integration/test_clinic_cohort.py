"""Joining the clinic cohort through the broker: closed school sessions, staff invites, walk-ins, school moves."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker

from contracts.cohort import (
    AddWalkIn,
    ChangeChildSchool,
    InviteChildToClinic,
    PreviewClinicInvitations,
    SetChildFlags,
)
from contracts.common import Programme
from contracts.sessions import (
    ClinicDate,
    ClinicDatesChanged,
    SchoolSessionChanged,
    SchoolSessionClosed,
    TeamSettings,
    TeamUpdated,
)
from msgkit.runtime import Runtime
from testkit import eventually, publish

from ..cohort_support import (
    Tap,
    ask,
    child_row,
    consent,
    import_children,
    new_team,
    processed,
    scalar,
    vaccination,
)

pytestmark = pytest.mark.integration

AT = datetime(2025, 10, 10, 12, tzinfo=UTC)
SCHOOL = "100001"


def session_changed(team: str, session_id: uuid.UUID) -> SchoolSessionChanged:
    return SchoolSessionChanged(
        session_id=session_id,
        team_ods=team,
        school_urn=SCHOOL,
        programmes=[Programme.FLU],
        academic_year=2025,
        dates=[date(2025, 10, 1)],
    )


def session_closed(team: str, session_id: uuid.UUID) -> SchoolSessionClosed:
    return SchoolSessionClosed(
        session_id=session_id,
        team_ods=team,
        school_urn=SCHOOL,
        programmes=[Programme.FLU],
        academic_year=2025,
        closed_by="Nurse Joy",
    )


async def preview(client: RabbitBroker, session_id: uuid.UUID) -> dict[str, Any]:
    reply = await ask(client, PreviewClinicInvitations(session_id=session_id))
    assert reply.ok and reply.data is not None, reply.error
    return reply.data


def invited_for(tap: Tap, team: str, reason: str) -> list[dict[str, Any]]:
    return [i for i in tap.invitations(team) if i["reason"] == reason]


async def test_closed_session_invites_exactly_the_previewed_children_once(
    client: RabbitBroker, runtime: Runtime, tap: Tap
) -> None:
    team, session_id = new_team(), uuid.uuid4()
    rows = [child_row(n, urn=SCHOOL, contact=n != 2, seed=n + 500) for n in range(7)]
    # A parent with only a landline and no email cannot be sent an invitation either (a text never reaches it).
    rows.append([*child_row(7, urn=SCHOOL, contact=False, seed=507)[:6], "Lee Line", "Father", "", "0113 496 0123"])
    vaccinated, refused, unreachable, archived, first, second, member, landline = await import_children(
        client, team, rows
    )
    events = [vaccination(vaccinated, team, at=AT), consent(refused, team, at=AT, status="refused")]
    events.append(session_changed(team, session_id))
    for event in events:
        await publish(client, event)
    assert (await ask(client, SetChildFlags(child_id=archived, archived=True, changed_by="t"))).ok
    assert (await ask(client, InviteChildToClinic(child_id=member, team_ods=team, requested_by="t"))).ok
    for event in events:
        await eventually(lambda e=event: processed(runtime, e), what=type(event).__name__)

    before = await preview(client, session_id)
    assert before["will_invite"] == 2
    assert before["left_out"] == {
        "vaccinated": 1,
        "consent_refused": 1,
        "not_in_year_groups": 0,
        "already_invited": 1,
        "not_contactable": 2,
        "do_not_contact": 1,
    }
    closed = session_closed(team, session_id)
    await publish(client, closed)
    await publish(client, closed)  # redelivered
    invitations = await eventually(
        lambda: _at_least(invited_for(tap, team, "school_session_closed"), 4), what="the closed session's invitations"
    )
    # Children no parent of whom can be reached still join (staff may phone them); notify cancels their invitation.
    assert {uuid.UUID(i["child_id"]) for i in invitations} == {first, second, unreachable, landline}
    assert {i["trigger"] for i in invitations} == {"staff"} and {i["requested_by"] for i in invitations} == {
        "Nurse Joy"
    }

    await publish(client, again := session_closed(team, session_id))
    await eventually(lambda: processed(runtime, again), what="the second close")
    after = await preview(client, session_id)
    assert after["will_invite"] == 0 and after["left_out"]["already_invited"] == 5
    members = "SELECT count(*) FROM clinic_memberships WHERE team_ods = :t AND reason = 'school_session_closed'"
    assert await scalar(runtime, members, t=team) == 4
    await _marker(client, tap, team)
    assert len(invited_for(tap, team, "school_session_closed")) == 4


async def _at_least(items: list[dict[str, Any]], count: int) -> list[dict[str, Any]] | None:
    return items if len(items) >= count else None


async def _marker(client: RabbitBroker, tap: Tap, team: str) -> None:
    """Once a later message from cohort is seen, every earlier one has been published (outbox order)."""
    [child] = await import_children(client, team, [child_row(0, urn="100009", seed=9_999)])
    await eventually(lambda: _snapshot_of(tap, team, child), what="the marker")


async def _snapshot_of(tap: Tap, team: str, child: uuid.UUID) -> bool:
    return any(s["child_id"] == str(child) for s in tap.snapshots(team))


async def test_unknown_session_preview_is_not_found(client: RabbitBroker) -> None:
    reply = await ask(client, PreviewClinicInvitations(session_id=uuid.uuid4()))
    assert not reply.ok and reply.error is not None and reply.error.code == "not_found"


async def test_staff_invite_is_initial_then_an_explicit_subsequent(
    client: RabbitBroker, runtime: Runtime, tap: Tap
) -> None:
    team = new_team()
    await publish(client, updated := _team(team, [Programme.FLU, Programme.HPV]))
    [child] = await import_children(client, team, [child_row(1, urn=SCHOOL, seed=700)])
    await eventually(lambda: processed(runtime, updated), what="the team's programmes")
    first = await ask(client, InviteChildToClinic(child_id=child, team_ods=team, requested_by="Nurse Joy"))
    second = InviteChildToClinic(child_id=child, team_ods=team, requested_by="Nurse Joy")
    repeat, redelivered = await ask(client, second), await ask(client, second)
    assert first.data is not None and first.data["kind"] == "initial"
    assert first.data["programmes"] == ["flu"]  # hpv is not offered to year 7 (the row's child)
    assert repeat.data == redelivered.data and repeat.data is not None and repeat.data["kind"] == "subsequent"
    invitations = await eventually(lambda: _at_least(tap.invitations(team), 2), what="both invitations")
    await _marker(client, tap, team)
    assert [(i["kind"], i["reason"]) for i in tap.invitations(team)] == [
        ("initial", "staff_invite"),
        ("subsequent", "staff_invite"),
    ]
    assert invitations[0]["trigger"] == "staff"


def _team(team: str, programmes: list[Programme]) -> TeamUpdated:
    settings = TeamSettings(ods_code=team, name="SAIS", email="sais@example.com", phone="0113 000 0000")
    return TeamUpdated(team=settings.model_copy(update={"programmes": programmes}))


async def test_staff_cannot_invite_an_archived_or_unknown_child(client: RabbitBroker) -> None:
    team = new_team()
    [child] = await import_children(client, team, [child_row(1, urn=SCHOOL, seed=800)])
    await ask(client, SetChildFlags(child_id=child, archived=True, changed_by="t"))
    refused = await ask(client, InviteChildToClinic(child_id=child, team_ods=team, requested_by="t"))
    assert refused.error is not None and refused.error.code == "do_not_contact"
    unknown = await ask(client, InviteChildToClinic(child_id=uuid.uuid4(), team_ods=team, requested_by="t"))
    assert unknown.error is not None and unknown.error.code == "not_found"


def clinic_dates(team: str, *days: date) -> ClinicDatesChanged:
    return ClinicDatesChanged(
        session_id=uuid.uuid4(), team_ods=team, programmes=[Programme.FLU], academic_year=2025,
        dates=[ClinicDate(on=d) for d in days], first_upcoming_date=None, last_date=None,
    )  # fmt: skip


async def test_a_walk_in_on_a_day_with_no_clinic_is_refused(client: RabbitBroker, runtime: Runtime) -> None:
    team = new_team()
    [child] = await import_children(client, team, [child_row(1, urn=SCHOOL, seed=910)])
    walk_in = AddWalkIn(child_id=child, team_ods=team, requested_by="Nurse Joy")
    refused = await ask(client, walk_in)
    assert refused.error is not None and refused.error.code == "no_clinic_today"
    assert refused.error.message == (
        f"Team {team} has no community clinic today (15 Oct 2025), so no one can walk in to one;"
        " it has no clinic dates to come."
    )
    await publish(client, dates := clinic_dates(team, date(2025, 10, 14), date(2025, 11, 5)))
    await eventually(lambda: processed(runtime, dates), what="the clinic dates")
    refused = await ask(client, walk_in.model_copy(update={"message_id": uuid.uuid4()}))
    assert refused.error is not None and refused.error.message.endswith("its next clinic is on 5 Nov 2025.")
    memberships = "SELECT count(*) FROM clinic_memberships WHERE child_id = :c"
    assert await scalar(runtime, memberships, c=child) == 0


async def test_a_walk_in_outside_the_programmes_year_groups_is_refused(client: RabbitBroker, runtime: Runtime) -> None:
    team = new_team()
    [child] = await import_children(client, team, [child_row(1, urn=SCHOOL, seed=920)])  # year 7 in 2025/26
    await publish(client, dates := clinic_dates(team, date(2025, 10, 15)))
    await eventually(lambda: processed(runtime, dates), what="the clinic dates")
    refused = await ask(client, AddWalkIn(child_id=child, team_ods=team, programmes=[Programme.HPV], requested_by="t"))
    assert refused.error is not None and refused.error.code == "not_in_year_groups"
    assert refused.error.message.startswith("The child is not part of this programme: hpv is not offered to year 7")
    both = await ask(
        client, AddWalkIn(child_id=child, team_ods=team, programmes=[Programme.FLU, Programme.HPV], requested_by="t")
    )
    assert both.data is not None and both.data["programmes"] == ["flu"]


async def test_walk_in_joins_todays_clinic_once(client: RabbitBroker, runtime: Runtime, tap: Tap) -> None:
    team = new_team()
    [child] = await import_children(client, team, [child_row(1, urn=SCHOOL, seed=900)])
    await publish(client, dates := clinic_dates(team, date(2025, 10, 15)))
    await eventually(lambda: processed(runtime, dates), what="the clinic dates")
    walk_in = AddWalkIn(child_id=child, team_ods=team, requested_by="Nurse Joy")
    first, redelivered = await ask(client, walk_in), await ask(client, walk_in)
    assert (
        first.data
        == redelivered.data
        == {
            "child_id": str(child),
            "joined": True,
            "programmes": ["flu"],
            "academic_year": 2025,
        }
    )
    again = await ask(client, AddWalkIn(child_id=child, team_ods=team, requested_by="Nurse Joy"))
    assert again.data is not None and again.data["joined"] is False
    row = "SELECT reason || ' ' || joined_on FROM clinic_memberships WHERE child_id = :c"
    assert await scalar(runtime, row, c=child) == "walk_in 2025-10-15"
    await _marker(client, tap, team)
    [invitation] = tap.invitations(team)
    assert (invitation["reason"], invitation["trigger"], invitation["requested_by"]) == (
        "walk_in",
        "staff",
        "Nurse Joy",
    )


async def test_moving_to_home_education_joins_and_a_real_school_does_not(
    client: RabbitBroker, runtime: Runtime, tap: Tap
) -> None:
    team = new_team()
    [child] = await import_children(client, team, [child_row(1, urn=SCHOOL, seed=1_000)])
    home = ChangeChildSchool(child_id=child, school_urn="999999", changed_by="t")
    moved, redelivered = await ask(client, home), await ask(client, home)
    assert moved.data == redelivered.data == {"child_id": str(child), "school_urn": "999999", "joined": True}
    real = await ask(client, ChangeChildSchool(child_id=child, school_urn="100002", changed_by="t"))
    unknown = await ask(client, ChangeChildSchool(child_id=child, school_urn="888888", changed_by="t"))
    assert real.data is not None and real.data["joined"] is False
    assert unknown.data is not None and unknown.data["joined"] is False  # already a member this year
    await _marker(client, tap, team)
    [invitation] = tap.invitations(team)
    assert (invitation["reason"], invitation["trigger"]) == ("home_educated", "automatic")
    urns = [s["school_urn"] for s in tap.snapshots(team) if s["child_id"] == str(child)]
    assert urns == [SCHOOL, "999999", "100002", "888888"]


async def test_flags_are_published_and_archived_children_never_join(client: RabbitBroker, tap: Tap) -> None:
    team = new_team()
    [child] = await import_children(client, team, [child_row(1, urn=SCHOOL, seed=1_100)])
    flags = SetChildFlags(child_id=child, archived=True, restricted=True, changed_by="t")
    reply, redelivered = await ask(client, flags), await ask(client, flags)
    assert reply.data == redelivered.data
    assert reply.data is not None and reply.data["archived"] and reply.data["restricted"]
    moved = await ask(client, ChangeChildSchool(child_id=child, school_urn="888888", changed_by="t"))
    assert moved.data is not None and moved.data["joined"] is False
    await _marker(client, tap, team)
    assert tap.invitations(team) == []
    flagged = [s for s in tap.snapshots(team) if s["child_id"] == str(child) and s["archived"]]
    assert [(s["restricted"], s["school_urn"]) for s in flagged] == [(True, SCHOOL), (True, "888888")]
