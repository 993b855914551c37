"""Recording outcomes through the real broker: RecordVaccination at clinics and schools."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from contracts import sessions as c
from contracts.common import Programme

if TYPE_CHECKING:
    from conftest import Client

pytestmark = pytest.mark.integration

TODAY = date(2026, 3, 4)  # the tests' clock starts at 10:00 on this day


async def clinic_today(client: Client) -> tuple[str, str]:
    ods = client.new_ods()
    await client.ok(client.team(ods))
    await client.ok(c.AddLocation(team_ods=ods, location_id="hub", kind="community_clinic", name="Leeds Hub"))
    dates = [c.ClinicDate(on=date(2026, 3, 2)), c.ClinicDate(on=TODAY)]
    request = c.SetClinicDates(team_ods=ods, academic_year=2025, programmes=[Programme.FLU], dates=dates)
    # A clinic date is added before it comes: the dates were set two days ago.
    now = client.clock.now()
    client.clock.advance(-timedelta(days=2))
    try:
        clinic = await client.ok(request)
    finally:
        client.clock.set(now)
    return ods, clinic["session_id"]


def vaccinate(session_id: str, **fields: Any) -> c.RecordVaccination:
    defaults: dict[str, Any] = {
        "child_id": uuid.uuid4(),
        "session_id": session_id,
        "programme": Programme.FLU,
        "outcome": c.VaccinationOutcome.VACCINATED,
        "venue_id": "hub",
        "recorded_by": "nurse",
    }
    return c.RecordVaccination.model_validate({**defaults, **fields})


async def test_a_clinic_vaccination_is_stored_and_published(client: Client) -> None:
    ods, session_id = await clinic_today(client)
    request = vaccinate(session_id, parent_present=True)
    data = await client.ok(request)
    event = await client.tap.one(c.VaccinationRecorded, lambda e: e.record_id == request.record_id)
    assert (event.team_ods, event.session_kind, event.academic_year) == (ods, c.SessionKind.CLINIC, 2025)
    assert (event.venue_id, event.parent_present, event.child_id) == ("hub", True, request.child_id)
    assert event.performed_at == client.clock.now() and event.causation_id == request.message_id
    assert data["record_id"] == str(request.record_id) and data["venue_id"] == "hub"


async def test_a_repeat_of_a_record_is_a_no_op_success(client: Client) -> None:
    _, session_id = await clinic_today(client)
    request = vaccinate(session_id)
    first = await client.ok(request)
    assert await client.ok(request) == first  # the same request delivered twice
    repeat = request.model_copy(update={"message_id": uuid.uuid4()})  # a retry from the client
    assert await client.ok(repeat) == first
    conflicting = vaccinate(
        session_id, record_id=request.record_id, child_id=request.child_id, outcome="not_vaccinated", reason="unwell"
    )
    code, _ = await client.refused(conflicting)
    assert code == "record_id_conflict"
    await client.settle()
    assert len(client.tap.of(c.VaccinationRecorded, lambda e: e.record_id == request.record_id)) == 1


async def test_a_vaccination_earlier_in_the_day_or_on_an_earlier_date_is_recorded(client: Client) -> None:
    _, session_id = await clinic_today(client)
    earlier = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    data = await client.ok(vaccinate(session_id, performed_at=earlier, venue_id="unknown"))
    assert data["performed_at"] == "2026-03-02T15:00:00Z" and data["venue_id"] == "unknown"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"venue_id": "community-clinic"}, "unknown_venue"),
        ({"venue_id": None}, "venue_required"),
        ({"outcome": "not_vaccinated"}, "reason_required"),
        ({"programme": "hpv"}, "programme_not_in_session"),
        ({"performed_at": datetime(2026, 3, 3, 12, tzinfo=UTC)}, "not_a_session_date"),
        ({"performed_at": datetime(2026, 3, 4, 11, tzinfo=UTC)}, "performed_in_future"),
    ],
)
async def test_bad_records_are_refused_with_a_clear_error(client: Client, fields: dict[str, Any], code: str) -> None:
    _, session_id = await clinic_today(client)
    refused_code, message = await client.refused(vaccinate(session_id, **fields))
    assert refused_code == code and message


async def test_not_vaccinated_with_a_reason_needs_no_venue(client: Client) -> None:
    _, session_id = await clinic_today(client)
    data = await client.ok(vaccinate(session_id, outcome="not_vaccinated", reason="absent", venue_id=None))
    assert (data["outcome"], data["reason"], data["venue_id"]) == ("not_vaccinated", "absent", None)


async def test_recording_in_an_unknown_session_is_refused(client: Client) -> None:
    code, _ = await client.refused(vaccinate(str(uuid.uuid4())))
    assert code == "not_found"


async def test_a_school_vaccination_is_at_the_school_and_parent_present_is_refused(client: Client) -> None:
    ods, urn = await client.team_with_school()
    school = c.CreateSchoolSession(team_ods=ods, school_urn=urn, programmes=[Programme.HPV], dates=[TODAY])
    await client.ok(school)
    request = vaccinate(str(school.session_id), programme="hpv", venue_id=None)
    await client.ok(request)
    event = await client.tap.one(c.VaccinationRecorded, lambda e: e.record_id == request.record_id)
    assert (event.session_kind, event.venue_id, event.academic_year) == (c.SessionKind.SCHOOL, urn, 2025)
    present = vaccinate(str(school.session_id), programme="hpv", venue_id=None, parent_present=True)
    code, _ = await client.refused(present)
    assert code == "parent_present_at_school"


async def test_a_second_outcome_of_a_child_programme_and_day_is_refused_unless_confirmed(client: Client) -> None:
    _, session_id = await clinic_today(client)
    first = vaccinate(session_id)
    await client.ok(first)
    second = vaccinate(session_id, child_id=first.child_id)
    code, message = await client.refused(second)
    assert code == "already_recorded"
    assert message.startswith("This child already has an outcome for flu on Wednesday 4 Mar 2026 (vaccinated")
    assert str(first.record_id) in message and "--confirm" in message
    # Another day, another programme or another child is no repeat; a confirmed second outcome is recorded.
    await client.ok(vaccinate(session_id, child_id=first.child_id, performed_at=datetime(2026, 3, 2, 11, tzinfo=UTC)))
    await client.ok(second.model_copy(update={"message_id": uuid.uuid4(), "confirm_repeat": True}))
    await client.settle()
    recorded = client.tap.of(c.VaccinationRecorded, lambda e: e.child_id == first.child_id)
    assert len(recorded) == 3


async def test_a_clinic_date_with_records_cannot_be_removed(client: Client) -> None:
    ods, session_id = await clinic_today(client)
    await client.ok(vaccinate(session_id))
    keep_only_the_past = [c.ClinicDate(on=date(2026, 3, 2))]
    request = c.SetClinicDates(team_ods=ods, academic_year=2025, programmes=[Programme.FLU], dates=keep_only_the_past)
    code, message = await client.refused(request)
    assert code == "date_has_records" and "Wednesday 4 Mar 2026" in message
