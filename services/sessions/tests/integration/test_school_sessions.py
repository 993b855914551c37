"""School sessions through the real broker: create, read, close (*Send clinic invitations*)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pytest

from contracts import sessions as c
from contracts.common import Programme

if TYPE_CHECKING:
    from conftest import Client

pytestmark = pytest.mark.integration

MARCH_2 = date(2026, 3, 2)  # Monday before the tests' start (Wednesday 4 March 2026)
MARCH_3 = date(2026, 3, 3)


def create(ods: str, urn: str, *dates: date, session_id: uuid.UUID | None = None) -> c.CreateSchoolSession:
    return c.CreateSchoolSession(
        session_id=session_id or uuid.uuid4(),
        team_ods=ods,
        school_urn=urn,
        programmes=[Programme.HPV, Programme.MENACWY],
        dates=list(dates) or [MARCH_2, MARCH_3],
    )


async def test_creating_a_school_session_publishes_it_with_its_academic_year(client: Client) -> None:
    ods, urn = await client.team_with_school()
    request = create(ods, urn, date(2026, 9, 8), date(2026, 9, 9))
    data = await client.ok(request)
    event = await client.tap.one(c.SchoolSessionChanged, lambda e: e.session_id == request.session_id)
    assert (event.team_ods, event.school_urn, event.academic_year) == (ods, urn, 2026)
    assert event.dates == [date(2026, 9, 8), date(2026, 9, 9)]
    assert event.correlation_id == request.message_id and event.causation_id == request.message_id
    assert data["state"] == "scheduled" and data["kind"] == "school" and data["academic_year"] == 2026


async def test_duplicate_create_request_has_one_effect_and_a_changed_one_amends(client: Client) -> None:
    ods, urn = await client.team_with_school()
    request = create(ods, urn)
    assert await client.ok(request) == await client.ok(request)
    await client.ok(create(ods, urn, MARCH_2, MARCH_3, session_id=request.session_id))  # same again: no event
    amended = await client.ok(create(ods, urn, MARCH_3, session_id=request.session_id))
    assert amended["dates"] == [{"on": "2026-03-03", "venue_id": None}]
    await client.settle()
    events = client.tap.of(c.SchoolSessionChanged, lambda e: e.session_id == request.session_id)
    assert [e.dates for e in events] == [[MARCH_2, MARCH_3], [MARCH_3]]


async def test_a_session_at_a_school_the_team_does_not_have_is_refused(client: Client) -> None:
    ods, _ = await client.team_with_school()
    code, message = await client.refused(create(ods, "100001"))
    assert code == "unknown_school" and "100001" in message
    code, _ = await client.refused(create(client.new_ods(), "100001"))
    assert code == "not_found"


async def test_dates_in_two_academic_years_are_refused(client: Client) -> None:
    ods, urn = await client.team_with_school()
    code, message = await client.refused(create(ods, urn, date(2026, 8, 31), date(2026, 9, 1)))
    assert code == "date_outside_academic_year" and "2025/26" in message


async def test_get_session_reads_kind_state_dates_and_school(client: Client) -> None:
    ods, urn = await client.team_with_school()
    request = create(ods, urn, date(2026, 3, 4), date(2026, 3, 5))
    await client.ok(request)
    data = await client.ok(c.GetSession(session_id=request.session_id))
    assert (data["kind"], data["state"], data["school_urn"]) == ("school", "in_progress", urn)
    assert data["programmes"] == ["hpv", "menacwy"] and data["last_date"] == "2026-03-05"
    code, _ = await client.refused(c.GetSession(session_id=uuid.uuid4()))
    assert code == "not_found"


async def test_closing_waits_until_the_session_is_completed(client: Client) -> None:
    ods, urn = await client.team_with_school()
    request = create(ods, urn, date(2026, 3, 4))
    await client.ok(request)
    code, message = await client.refused(c.CloseSchoolSession(session_id=request.session_id, closed_by="nurse"))
    assert code == "session_not_completed"
    assert "Wednesday 4 Mar 2026" in message and "Thursday 5 Mar 2026" in message
    # 00:30 on 5 March in London: the day after the last date has begun.
    client.clock.set(datetime(2026, 3, 5, 0, 30, tzinfo=UTC))
    data = await client.ok(c.CloseSchoolSession(session_id=request.session_id, closed_by="nurse"))
    assert data["state"] == "completed" and data["closed_by"] == "nurse"
    event = await client.tap.one(c.SchoolSessionClosed, lambda e: e.session_id == request.session_id)
    assert (event.team_ods, event.school_urn, event.academic_year, event.closed_by) == (ods, urn, 2025, "nurse")
    assert event.programmes == [Programme.HPV, Programme.MENACWY]


async def test_closing_twice_is_a_no_op_success_with_one_event(client: Client) -> None:
    ods, urn = await client.team_with_school()
    request = create(ods, urn)
    await client.ok(request)
    close = c.CloseSchoolSession(session_id=request.session_id, closed_by="nurse")
    first = await client.ok(close)
    assert await client.ok(close) == first  # the same request delivered twice
    assert first["already_closed"] is False and first["school_name"] == "Park School"
    again = await client.ok(c.CloseSchoolSession(session_id=request.session_id, closed_by="someone else"))
    # A second Send clinic invitations says it sent nothing, and when the first did (issue 19 item 14).
    assert again["closed_by"] == "nurse" and again["already_closed"] is True
    assert again["closed_at"] == first["closed_at"]
    await client.settle()
    assert len(client.tap.of(c.SchoolSessionClosed, lambda e: e.session_id == request.session_id)) == 1
    code, _ = await client.refused(create(ods, urn, MARCH_3, session_id=request.session_id))
    assert code == "session_closed"


async def test_closing_a_clinic_or_an_unknown_session_is_refused(client: Client) -> None:
    ods = client.new_ods()
    await client.ok(client.team(ods))
    clinic = await client.ok(c.SetClinicDates(team_ods=ods, academic_year=2025, programmes=[Programme.FLU], dates=[]))
    code, _ = await client.refused(c.CloseSchoolSession(session_id=clinic["session_id"], closed_by="nurse"))
    assert code == "not_a_school_session"
    code, _ = await client.refused(c.CloseSchoolSession(session_id=uuid.uuid4(), closed_by="nurse"))
    assert code == "not_found"
