"""The four services as processes, driven only through the contract, with a loopback GOV.UK Notify."""

from __future__ import annotations

import csv
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from faststream.rabbit import RabbitBroker

from clinics_admin.processes import ServiceProcess
from contracts import cohort, consent, notify, sessions
from contracts.common import Programme
from msgkit import rpc
from msgkit.clock import LONDON, SystemClock, academic_year_of, london_today
from testkit import eventually
from testkit.data import all_day_team
from testkit.stub import StubProcess

from .support import ChildRow, ask, child, child_id, import_children, import_rows, refusal

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).parent / "fixtures"


def today() -> date:
    """Read when used, not at import: a run that crosses midnight must not make yesterday a clinic day."""
    return london_today(SystemClock())


FLU = [Programme.FLU]


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=LONDON)


def new_team() -> str:
    return "E" + uuid.uuid4().hex[:6].upper()


def seed() -> int:
    return uuid.uuid4().int % 10**8


async def create_team(client: RabbitBroker, ods: str, *, days_before: int = 21) -> None:
    await ask(client, sessions.UpsertTeam(team=all_day_team(ods, days_before=days_before)))


async def clinic_on(client: RabbitBroker, ods: str, *days: date) -> dict[str, Any]:
    year = academic_year_of(days[0]) if days else academic_year_of(today())
    dates = [sessions.ClinicDate(on=d) for d in days]
    return await ask(client, sessions.SetClinicDates(team_ods=ods, academic_year=year, programmes=FLU, dates=dates))


async def activity_kinds(client: RabbitBroker, child: uuid.UUID) -> list[str]:
    entries = (await ask(client, cohort.GetActivityLog(child_id=child)))["entries"]
    return [e["kind"] for e in entries]


def has_all(*wanted: str) -> Any:
    def check(kinds: list[str]) -> bool:
        return all(w in kinds for w in wanted)

    return check


async def wait_for_activity(client: RabbitBroker, child: uuid.UUID, *wanted: str, timeout: float = 30) -> list[str]:
    async def probe() -> list[str] | None:
        kinds = await activity_kinds(client, child)
        return kinds if all(w in kinds for w in wanted) else None

    return await eventually(probe, timeout=timeout, what=f"activity {wanted} for {child}")


async def test_every_service_is_ready_with_metrics(stack: dict[str, ServiceProcess]) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        for process in stack.values():
            ready = await http.get(f"{process.base_url}/health/ready")
            assert ready.status_code == 200, (process.service, ready.text)
            assert all(ready.json()["checks"].values())
            metrics = await http.get(f"{process.base_url}/metrics")
            assert "clinics_ready" in metrics.text


async def test_imported_home_educated_and_unknown_school_children_are_invited_once(
    client: RabbitBroker, notify_stub: StubProcess
) -> None:
    ods = new_team()
    await create_team(client, ods)
    await clinic_on(client, ods, today() + timedelta(days=7))
    n = seed()
    home, unknown, at_school = child(n, "999999"), child(n + 1, "888888"), child(n + 2, "123456")
    rows = [home, unknown, at_school]
    year = academic_year_of(today() + timedelta(days=7))
    result = await import_children(client, ods, rows, academic_year=year)
    assert result["joined_clinic"] == 2

    for row in (home, unknown):
        assert row.parent_email is not None
        await eventually(lambda r=row: notify_stub.sent_to(r.parent_email), timeout=30, what="the invitation email")
        kinds = await wait_for_activity(
            client, await child_id(client, ods, row), "invitation_scheduled", "notification_sent"
        )
        assert (
            kinds.index("joined_clinic_cohort") < kinds.index("invitation_scheduled") < kinds.index("notification_sent")
        )
    # Both channels went to the home-educated child's parent: email and SMS.
    channels = {
        s["channel"]
        for s in await notify_stub.sent()
        if s["personalisation"].get("child_full_name", "").endswith(home.last_name)
    }
    assert channels == {"email", "sms"}
    assert not await notify_stub.sent_to(at_school.parent_email or ""), "a child at a school is not invited"

    again = await import_children(client, ods, rows, academic_year=year)
    assert again["joined_clinic"] == 0
    status = await ask(client, notify.GetInvitationStatus(child_id=await child_id(client, ods, home)))
    assert len(status["invitations"]) == 1


async def test_closed_school_session_invites_what_the_preview_said_and_only_once(client: RabbitBroker) -> None:
    ods = new_team()
    urn = f"{seed() % 900000 + 100000:06d}"
    await create_team(client, ods)
    await ask(client, sessions.AddLocation(team_ods=ods, location_id=urn, kind="school", name="Test Primary"))
    await clinic_on(client, ods, today() + timedelta(days=14))
    n = seed()
    missed_1, missed_2, vaccinated = child(n, urn), child(n + 1, urn), child(n + 2, urn)
    no_contact = child(n + 3, urn, contactable=False)
    await import_children(client, ods, [missed_1, missed_2, vaccinated, no_contact])
    school_day = today() - timedelta(days=2)
    school = await ask(
        client, sessions.CreateSchoolSession(team_ods=ods, school_urn=urn, programmes=FLU, dates=[school_day])
    )
    session_id = uuid.UUID(school["session_id"])
    vaccinated_id = await child_id(client, ods, vaccinated)
    await ask(
        client,
        sessions.RecordVaccination(
            child_id=vaccinated_id, session_id=session_id, programme=Programme.FLU,
            outcome=sessions.VaccinationOutcome.VACCINATED, recorded_by="Nurse", performed_at=noon(school_day),
        ),
    )  # fmt: skip

    async def preview() -> dict[str, Any] | None:
        data = await ask(client, cohort.PreviewClinicInvitations(session_id=session_id))
        return data if data["left_out"].get("vaccinated") == 1 else None

    first = await eventually(preview, what="the preview to count the vaccination")
    assert first["will_invite"] == 2
    assert first["left_out"]["not_contactable"] == 1

    await ask(client, sessions.CloseSchoolSession(session_id=session_id, closed_by="Nurse"))
    # The child with no contact details joins too (staff may phone them), though no invitation can reach them.
    for row in (missed_1, missed_2, no_contact):
        await wait_for_activity(
            client, await child_id(client, ods, row), "joined_clinic_cohort", "invitation_scheduled"
        )

    second = await ask(client, cohort.PreviewClinicInvitations(session_id=session_id))
    assert second["will_invite"] == 0
    assert second["left_out"]["already_invited"] == 3
    await ask(client, sessions.CloseSchoolSession(session_id=session_id, closed_by="Nurse"))
    for row in (missed_1, missed_2):
        status = await ask(client, notify.GetInvitationStatus(child_id=await child_id(client, ods, row)))
        assert len(status["invitations"]) == 1
    assert "joined_clinic_cohort" not in await activity_kinds(client, vaccinated_id)


async def test_an_incomplete_school_session_refuses_the_bulk_send(client: RabbitBroker) -> None:
    ods = new_team()
    urn = f"{seed() % 900000 + 100000:06d}"
    await create_team(client, ods)
    await ask(client, sessions.AddLocation(team_ods=ods, location_id=urn, kind="school", name="Later Primary"))
    school = await ask(
        client,
        sessions.CreateSchoolSession(team_ods=ods, school_urn=urn, programmes=FLU, dates=[today() + timedelta(days=3)]),
    )
    code, message = await refusal(
        client, sessions.CloseSchoolSession(session_id=school["session_id"], closed_by="Nurse")
    )
    assert code == "session_not_completed"
    assert "completed" in message


async def test_a_walk_in_joins_todays_clinic(client: RabbitBroker) -> None:
    ods = new_team()
    await create_team(client, ods)
    await clinic_on(client, ods, today())
    row = child(seed(), "123456")
    await import_children(client, ods, [row])
    walk_in = await child_id(client, ods, row)
    await ask(client, cohort.AddWalkIn(child_id=walk_in, team_ods=ods, requested_by="Nurse"))
    await wait_for_activity(client, walk_in, "joined_clinic_cohort")


async def test_an_invalid_file_reports_every_bad_row_and_imports_nothing(client: RabbitBroker) -> None:
    ods = new_team()
    await create_team(client, ods)
    with (FIXTURES / "invalid_fields.csv").open(newline="") as f:
        header, *rows = list(csv.reader(f))
    errors, commit = await import_rows(client, ods, header, rows)
    assert errors, "the staged chunks report their row errors"
    assert all(e["row"] >= 2 and e["column"] for e in errors)
    assert not commit.ok
    assert commit.error.code == "invalid_file"
    # The commit lists the chunks' errors with those of the file as a whole: the valid rows share an NHS
    # number, and (their children born in 2010) are past year 11 once the suite runs after August 2026.
    assert all(e in commit.error.details for e in errors)
    whole_file = {"The same NHS number appears multiple times in this file", "is not part of this programme"}
    assert {d["message"] for d in commit.error.details if d not in errors} <= whole_file
    found = await ask(client, cohort.FindChildren(team_ods=ods, last_name="Smith"))
    assert found["children"] == []


async def test_a_clinic_from_invitation_to_vaccination(client: RabbitBroker, notify_stub: StubProcess) -> None:
    ods = new_team()
    await create_team(client, ods)
    first_date = today()  # vaccinations are recorded on a clinic date, so the first one is today
    clinic = await clinic_on(client, ods, first_date, first_date + timedelta(days=7))
    clinic_id = uuid.UUID(clinic["session_id"])
    n = seed()
    booked, walk_up = child(n, "999999"), child(n + 1, "888888")
    await import_children(client, ods, [booked, walk_up], academic_year=academic_year_of(first_date))
    booked_id, walk_up_id = await child_id(client, ods, booked), await child_id(client, ods, walk_up)
    await wait_for_activity(client, booked_id, "notification_sent")

    await ask(
        client, consent.SendConsentRequest(child_id=booked_id, team_ods=ods, programmes=FLU, requested_by="Nurse")
    )
    await ask(
        client,
        consent.RecordConsent(
            child_id=booked_id, team_ods=ods, programme=Programme.FLU, response=consent.ConsentResponse.GIVEN,
            route=consent.ConsentRoute.PHONE, recorded_by="Nurse",
        ),
    )  # fmt: skip
    for who, present in ((booked_id, False), (walk_up_id, True)):
        await ask(
            client,
            sessions.RecordVaccination(
                child_id=who, session_id=clinic_id, programme=Programme.FLU, venue_id="unknown",
                outcome=sessions.VaccinationOutcome.VACCINATED, parent_present=present, recorded_by="Nurse",
            ),
        )  # fmt: skip

    kinds = await wait_for_activity(client, booked_id, "consent_requested", "consent_recorded", "vaccination_recorded")
    order = [
        "joined_clinic_cohort",
        "invitation_scheduled",
        "notification_sent",
        "consent_requested",
        "consent_recorded",
        "vaccination_recorded",
    ]
    firsts = [kinds.index(k) for k in order]
    assert firsts == sorted(firsts), kinds
    await wait_for_activity(client, walk_up_id, "consent_recorded", "vaccination_recorded")
    implied = await ask(client, consent.GetConsentStatus(child_id=walk_up_id))
    (flu,) = [p for p in implied["programmes"] if p["programme"] == "flu"]
    assert flu["status"] == "given"
    assert flu["responses"][-1]["route"] == "in_person_implied"

    year = academic_year_of(first_date)

    async def listed(filter_: cohort.ClinicChildrenFilter) -> set[str]:
        data = await ask(
            client, cohort.ListClinicChildren(team_ods=ods, programme=Programme.FLU, academic_year=year, filter=filter_)
        )
        return {c["child_id"] for c in data["children"]}

    both = {str(booked_id), str(walk_up_id)}
    await eventually(lambda: _equals(listed(cohort.ClinicChildrenFilter.VACCINATED), both), what="both vaccinated")
    assert await listed(cohort.ClinicChildrenFilter.NEEDS_CONSENT) == set()
    assert await listed(cohort.ClinicChildrenFilter.CONSENT_GIVEN) == both


async def _equals(values: Any, expected: set[str]) -> bool:
    return bool(await values == expected)


async def test_refused_consent_before_the_due_time_cancels_the_invitation(client: RabbitBroker) -> None:
    ods = new_team()
    await create_team(client, ods, days_before=21)
    first_date = today() + timedelta(days=60)  # due in 39 days: nothing is sent yet
    await clinic_on(client, ods, first_date)
    row = child(seed(), "999999")
    await import_children(client, ods, [row], academic_year=academic_year_of(first_date))
    refused = await child_id(client, ods, row)
    await wait_for_activity(client, refused, "invitation_scheduled")
    await ask(
        client,
        consent.RecordConsent(
            child_id=refused, team_ods=ods, programme=Programme.FLU, response=consent.ConsentResponse.REFUSED,
            route=consent.ConsentRoute.PAPER, recorded_by="Nurse",
        ),
    )  # fmt: skip
    await wait_for_activity(client, refused, "invitation_cancelled")
    status = await ask(client, notify.GetInvitationStatus(child_id=refused))
    assert [i["status"] for i in status["invitations"]] == ["cancelled"]
    assert [n["kind"] for n in status["notifications"]] == ["consent_confirmation_refused"]


async def test_a_consent_request_outside_the_window_is_refused_with_its_reason(client: RabbitBroker) -> None:
    ods = new_team()
    await create_team(client, ods)
    await clinic_on(client, ods, today())  # the window closed yesterday, the day before the last date
    row: ChildRow = child(seed(), "999999")
    await import_children(client, ods, [row])
    kid = await child_id(client, ods, row)

    async def known() -> bool:  # consent hears of the child from cohort's ChildrenUpserted, a moment later
        return (await rpc.request(client, consent.GetConsentStatus(child_id=kid), timeout=30)).ok

    await eventually(known, timeout=30, interval=0.2, what="consent to know the child")
    request = consent.SendConsentRequest(child_id=kid, team_ods=ods, programmes=FLU, requested_by="Nurse")
    code, message = await refusal(client, request)
    assert code == "consent_window_closed"
    assert message
