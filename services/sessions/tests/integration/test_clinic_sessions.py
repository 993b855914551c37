"""The team's community clinic session through the real broker: SetClinicDates and GetClinicSession."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

from contracts import sessions as c
from contracts.common import Programme

if TYPE_CHECKING:
    from conftest import Client

pytestmark = pytest.mark.integration

FLU_HPV = [Programme.FLU, Programme.HPV]


async def clinic_team(client: Client) -> str:
    ods = client.new_ods()
    await client.ok(client.team(ods))
    await client.ok(c.AddLocation(team_ods=ods, location_id="hub", kind="community_clinic", name="Leeds Hub"))
    return ods


def set_dates(ods: str, *dates: c.ClinicDate, programmes: list[Programme] = FLU_HPV) -> c.SetClinicDates:
    return c.SetClinicDates(team_ods=ods, academic_year=2025, programmes=programmes, dates=list(dates))


async def test_the_clinic_session_is_created_unscheduled_then_scheduled(client: Client) -> None:
    ods = await clinic_team(client)
    created = await client.ok(set_dates(ods))
    assert created["state"] == "unscheduled" and created["dates"] == [] and created["kind"] == "clinic"
    first = await client.tap.one(c.ClinicDatesChanged, lambda e: e.team_ods == ods)
    assert first.dates == [] and first.first_upcoming_date is None and first.last_date is None

    dates = [c.ClinicDate(on=date(2026, 3, 21), venue_id="hub"), c.ClinicDate(on=date(2026, 4, 18))]
    scheduled = await client.ok(set_dates(ods, *reversed(dates)))
    assert scheduled["session_id"] == created["session_id"] and scheduled["state"] == "scheduled"
    event = await client.tap.one(c.ClinicDatesChanged, lambda e: e.team_ods == ods and bool(e.dates))
    assert event.dates == dates and event.academic_year == 2025 and event.programmes == FLU_HPV
    assert (event.first_upcoming_date, event.last_date) == (date(2026, 3, 21), date(2026, 4, 18))
    assert event.consent_window_closes_on == date(2026, 4, 17)


async def test_one_clinic_session_per_year_and_programme_set(client: Client) -> None:
    ods = await clinic_team(client)
    flu_hpv = await client.ok(set_dates(ods))
    hpv_flu = await client.ok(set_dates(ods, programmes=[Programme.HPV, Programme.FLU]))
    flu = await client.ok(set_dates(ods, programmes=[Programme.FLU]))
    assert flu_hpv["session_id"] == hpv_flu["session_id"] != flu["session_id"]
    read = await client.ok(c.GetClinicSession(team_ods=ods, academic_year=2025, programmes=[Programme.HPV, "flu"]))
    assert read["session_id"] == flu_hpv["session_id"]


async def test_today_is_upcoming_and_past_dates_are_not(client: Client) -> None:
    ods = await clinic_team(client)
    past, today, later = date(2026, 3, 1), date(2026, 3, 4), date(2026, 5, 2)
    now = client.clock.now()
    client.clock.advance(-timedelta(days=3))  # the past date was added when it was still to come
    await client.ok(set_dates(ods, c.ClinicDate(on=past)))
    client.clock.set(now)
    data = await client.ok(set_dates(ods, *(c.ClinicDate(on=d) for d in (past, today, later))))
    assert data["state"] == "in_progress" and data["first_upcoming_date"] == "2026-03-04"
    event = await client.tap.one(c.ClinicDatesChanged, lambda e: e.team_ods == ods and len(e.dates) == 3)
    assert event.first_upcoming_date == today


async def test_a_clinic_date_in_the_past_is_refused_with_a_clear_error(client: Client) -> None:
    ods = await clinic_team(client)
    code, message = await client.refused(
        set_dates(ods, c.ClinicDate(on=date(2026, 3, 3)), c.ClinicDate(on=date(2026, 5, 2)))
    )
    assert code == "date_in_past"
    assert message == (
        "Tuesday 3 Mar 2026 is in the past (today is Wednesday 4 Mar 2026); a clinic date can be added from today on."
    )
    # Today is not past: a clinic can be added for this afternoon.
    assert (await client.ok(set_dates(ods, c.ClinicDate(on=date(2026, 3, 4)))))["state"] == "in_progress"


async def test_dates_are_amended_and_removed_and_unchanged_dates_publish_nothing(client: Client) -> None:
    ods = await clinic_team(client)
    await client.ok(set_dates(ods, c.ClinicDate(on=date(2026, 3, 21))))
    await client.ok(set_dates(ods, c.ClinicDate(on=date(2026, 3, 21))))  # a new request saying the same
    await client.ok(set_dates(ods, c.ClinicDate(on=date(2026, 3, 28), venue_id="hub")))
    removed = await client.ok(set_dates(ods))
    assert removed["state"] == "unscheduled"
    await client.settle()
    events = client.tap.of(c.ClinicDatesChanged, lambda e: e.team_ods == ods)
    assert [[d.on for d in e.dates] for e in events] == [[date(2026, 3, 21)], [date(2026, 3, 28)], []]
    assert events[1].dates[0].venue_id == "hub"


async def test_duplicate_set_clinic_dates_request_has_one_effect(client: Client) -> None:
    ods = await clinic_team(client)
    request = set_dates(ods, c.ClinicDate(on=date(2026, 3, 21)))
    assert await client.ok(request) == await client.ok(request)
    await client.settle()
    assert len(client.tap.of(c.ClinicDatesChanged, lambda e: e.team_ods == ods)) == 1


@pytest.mark.parametrize(
    ("dates", "code", "words"),
    [
        ([c.ClinicDate(on=date(2026, 3, 21), venue_id="community-clinic")], "unknown_venue", "'community-clinic'"),
        ([c.ClinicDate(on=date(2026, 9, 5))], "date_outside_academic_year", "2025/26"),
        (
            [c.ClinicDate(on=date(2026, 3, 21)), c.ClinicDate(on=date(2026, 3, 21))],
            "duplicate_date",
            "Saturday 21 Mar 2026",
        ),
    ],
)
async def test_bad_dates_are_refused_with_a_clear_error(
    client: Client, dates: list[c.ClinicDate], code: str, words: str
) -> None:
    ods = await clinic_team(client)
    refused_code, message = await client.refused(set_dates(ods, *dates))
    assert refused_code == code and words in message


async def test_a_school_is_not_a_clinic_venue(client: Client) -> None:
    ods, urn = await client.team_with_school()
    code, _ = await client.refused(set_dates(ods, c.ClinicDate(on=date(2026, 3, 21), venue_id=urn)))
    assert code == "unknown_venue"


async def test_clinic_of_an_unknown_team_or_year_is_not_found(client: Client) -> None:
    code, _ = await client.refused(set_dates(client.new_ods()))
    assert code == "not_found"
    ods = await clinic_team(client)
    code, message = await client.refused(c.GetClinicSession(team_ods=ods, academic_year=2025, programmes=FLU_HPV))
    assert code == "not_found" and "SetClinicDates" in message


async def test_clinic_sessions_keep_being_created_once_statements_are_prepared_generically(client: Client) -> None:
    # asyncpg switches a prepared statement to a generic plan after five runs; the partial unique
    # index must still be matched then (it was not while its predicate was a bound parameter).
    ods = await clinic_team(client)
    years = range(2000, 2080)  # spread over the pool, each connection still runs it more than five times
    created = [
        await client.ok(c.SetClinicDates(team_ods=ods, academic_year=y, programmes=FLU_HPV, dates=[])) for y in years
    ]
    assert len({r["session_id"] for r in created}) == len(years)
