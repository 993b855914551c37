"""Domain rules of the sessions service: states, academic years, dates, closing and recording."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from msgkit.clock import FixedClock, london_today
from sessions.domain import (
    Outcome,
    Refused,
    Session,
    SessionDate,
    SessionKind,
    SessionState,
    new_clinic_session,
    new_school_session,
    programme_set,
    session_state,
)
from sessions.teams import Team, new_location

pytestmark = pytest.mark.unit

VENUES = frozenset({"v-leeds"})
LATER = datetime(2026, 3, 4, 10, tzinfo=UTC)


def school(*days: date, urn: str = "123456") -> Session:
    return new_school_session(
        session_id=uuid.uuid4(), team_ods="RXX", school_urn=urn, programmes=["hpv"], dates=days or [date(2026, 3, 3)]
    )


def clinic(*dates: SessionDate, year: int = 2025) -> Session:
    session = new_clinic_session(session_id=uuid.uuid4(), team_ods="RXX", academic_year=year, programmes=["flu"])
    session.set_dates(list(dates), venues=VENUES, recorded=frozenset())
    return session


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC)


def record(session: Session, **overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "record_id": uuid.uuid4(),
        "child_id": uuid.uuid4(),
        "programme": session.programmes[0],
        "outcome": Outcome.VACCINATED,
        "reason": None,
        "venue_id": None,
        "parent_present": False,
        "performed_at": at("2026-03-03T10:00:00+00:00"),
        "recorded_by": "nurse",
        "now": at("2026-03-03T12:00:00+00:00"),
        "venues": VENUES,
    }
    return session.record(**{**fields, **overrides})


# --- states ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "today", "state"),
    [
        ([], date(2026, 3, 1), SessionState.UNSCHEDULED),
        ([date(2026, 3, 3)], date(2026, 3, 2), SessionState.SCHEDULED),
        ([date(2026, 3, 3)], date(2026, 3, 3), SessionState.IN_PROGRESS),
        ([date(2026, 3, 3)], date(2026, 3, 4), SessionState.COMPLETED),
        ([date(2026, 3, 3), date(2026, 3, 10)], date(2026, 3, 5), SessionState.SCHEDULED),
        ([date(2026, 3, 3), date(2026, 3, 10)], date(2026, 3, 10), SessionState.IN_PROGRESS),
    ],
)
def test_session_state_follows_its_dates(dates: list[date], today: date, state: SessionState) -> None:
    assert session_state(dates, today) is state


def test_state_is_judged_by_the_london_date_in_summer_time() -> None:
    # 23:30 UTC on 10 June is 00:30 BST on 11 June: the clinic on the 11th is already in progress.
    late_evening_utc = FixedClock(at("2026-06-10T23:30:00+00:00"))
    assert session_state([date(2026, 6, 11)], london_today(late_evening_utc)) is SessionState.IN_PROGRESS
    assert session_state([date(2026, 6, 10)], london_today(late_evening_utc)) is SessionState.COMPLETED


def test_state_in_winter_time_is_the_utc_date() -> None:
    late_evening_utc = FixedClock(at("2026-01-10T23:30:00+00:00"))
    assert session_state([date(2026, 1, 10)], london_today(late_evening_utc)) is SessionState.IN_PROGRESS


def test_state_across_the_spring_clock_change() -> None:
    clock = FixedClock(at("2026-03-28T23:59:00+00:00"))  # still GMT: Saturday 28 March
    assert session_state([date(2026, 3, 29)], london_today(clock)) is SessionState.SCHEDULED
    clock.set(at("2026-03-29T01:30:00+00:00"))  # 02:30 BST on Sunday 29 March
    assert session_state([date(2026, 3, 29)], london_today(clock)) is SessionState.IN_PROGRESS


# --- academic year and dates ------------------------------------------------------------------


@pytest.mark.parametrize(("first", "year"), [(date(2026, 8, 31), 2025), (date(2026, 9, 1), 2026)])
def test_school_session_year_is_that_of_its_first_date(first: date, year: int) -> None:
    assert school(first).academic_year == year


def test_school_session_dates_across_two_academic_years_are_refused() -> None:
    with pytest.raises(Refused) as refused:
        school(date(2026, 8, 31), date(2026, 9, 1))
    assert refused.value.code == "date_outside_academic_year"
    assert "2025/26" in refused.value.message


def test_clinic_dates_are_sorted_and_first_upcoming_counts_today() -> None:
    session = clinic(SessionDate(date(2026, 5, 1)), SessionDate(date(2026, 3, 1), "v-leeds"))
    assert [d.on for d in session.dates] == [date(2026, 3, 1), date(2026, 5, 1)]
    assert session.first_upcoming_date(date(2026, 3, 1)) == date(2026, 3, 1)
    assert session.first_upcoming_date(date(2026, 3, 2)) == date(2026, 5, 1)
    assert session.first_upcoming_date(date(2026, 5, 2)) is None
    assert session.last_date == date(2026, 5, 1)
    assert session.consent_window_closes_on == date(2026, 4, 30)


def test_unscheduled_clinic_has_no_dates_and_no_consent_window() -> None:
    session = clinic()
    assert session.state(date(2026, 1, 1)) is SessionState.UNSCHEDULED
    assert session.last_date is None and session.consent_window_closes_on is None


@pytest.mark.parametrize(
    ("dates", "code"),
    [
        ([SessionDate(date(2026, 3, 1)), SessionDate(date(2026, 3, 1), "v-leeds")], "duplicate_date"),
        ([SessionDate(date(2026, 9, 1))], "date_outside_academic_year"),
        ([SessionDate(date(2026, 3, 1), "generic-clinic")], "unknown_venue"),
    ],
)
def test_bad_clinic_dates_are_refused(dates: list[SessionDate], code: str) -> None:
    with pytest.raises(Refused) as refused:
        clinic(*dates)
    assert refused.value.code == code


def test_setting_the_same_dates_again_changes_nothing() -> None:
    session = clinic(SessionDate(date(2026, 3, 1), "v-leeds"))
    assert not session.set_dates([SessionDate(date(2026, 3, 1), "v-leeds")], venues=VENUES, recorded=frozenset())
    assert session.set_dates([SessionDate(date(2026, 3, 1))], venues=VENUES, recorded=frozenset())


def test_a_date_with_vaccinations_cannot_be_removed() -> None:
    session = clinic(SessionDate(date(2026, 3, 1)), SessionDate(date(2026, 3, 8)))
    with pytest.raises(Refused) as refused:
        session.set_dates([SessionDate(date(2026, 3, 8))], venues=VENUES, recorded=frozenset({date(2026, 3, 1)}))
    assert refused.value.code == "date_has_records"


def test_programme_sets_ignore_order_and_repeats() -> None:
    assert programme_set(["hpv", "flu", "hpv"]) == programme_set(["flu", "hpv"]) == ("flu", "hpv")


# --- teams and locations ----------------------------------------------------------------------


@pytest.mark.parametrize("urn", ["888888", "999999"])
def test_placeholder_urns_are_not_schools(urn: str) -> None:
    with pytest.raises(Refused) as refused:
        new_location(team_ods="RXX", location_id=urn, kind="school", name="Somewhere")
    assert refused.value.code == "placeholder_urn"
    assert urn in refused.value.message


def test_a_school_needs_a_six_digit_urn_and_unknown_is_not_a_venue_id() -> None:
    with pytest.raises(Refused):
        new_location(team_ods="RXX", location_id="12345", kind="school", name="Short URN")
    with pytest.raises(Refused):
        new_location(team_ods="RXX", location_id="unknown", kind="community_clinic", name="Nowhere")
    assert new_location(team_ods="RXX", location_id="123456", kind="school", name="School").location_id == "123456"


def test_a_team_sending_window_must_open_before_it_closes() -> None:
    with pytest.raises(Refused) as refused:
        Team("RXX", "Team", "t@example.com", "0", None, 21, time(19), time(9), None, ("flu",))
    assert refused.value.code == "invalid_sending_window"


# --- closing ----------------------------------------------------------------------------------


def test_a_session_is_closed_only_once_it_is_completed() -> None:
    session = school(date(2026, 3, 3))
    with pytest.raises(Refused) as refused:
        session.close(by="nurse", at=at("2026-03-03T12:00:00+00:00"), today=date(2026, 3, 3))
    assert refused.value.code == "session_not_completed"
    assert "Tuesday 3 Mar 2026" in refused.value.message and "4 Mar 2026" in refused.value.message
    assert session.close(by="nurse", at=at("2026-03-04T09:00:00+00:00"), today=date(2026, 3, 4))
    assert not session.close(by="other", at=at("2026-03-05T09:00:00+00:00"), today=date(2026, 3, 5))
    assert session.closed_by == "nurse"


def test_a_clinic_is_never_closed() -> None:
    with pytest.raises(Refused) as refused:
        clinic(SessionDate(date(2026, 3, 1))).close(by="n", at=at("2026-04-01T09:00:00+00:00"), today=date(2026, 4, 1))
    assert refused.value.code == "not_a_school_session"


# --- recording --------------------------------------------------------------------------------


def test_recording_at_a_school_uses_the_school_and_the_session_year() -> None:
    v = record(school(date(2026, 3, 3)))
    assert (v.venue_id, v.session_kind, v.academic_year, v.session_date) == (
        "123456",
        SessionKind.SCHOOL,
        2025,
        date(2026, 3, 3),
    )


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"performed_at": LATER, "now": LATER}, "not_a_session_date"),
        ({"performed_at": at("2026-03-03T13:00:00+00:00")}, "performed_in_future"),
        ({"outcome": Outcome.NOT_VACCINATED}, "reason_required"),
        ({"reason": "unwell"}, "reason_not_allowed"),
        ({"parent_present": True}, "parent_present_at_school"),
        ({"programme": "flu"}, "programme_not_in_session"),
    ],
)
def test_bad_school_records_are_refused(overrides: dict[str, Any], code: str) -> None:
    with pytest.raises(Refused) as refused:
        record(school(date(2026, 3, 3)), **overrides)
    assert refused.value.code == code


def test_clinic_vaccination_is_at_a_real_venue_or_unknown_never_the_virtual_clinic() -> None:
    day = SessionDate(date(2026, 3, 3))
    assert record(clinic(day), venue_id="unknown").venue_id == "unknown"
    assert record(clinic(day), venue_id="v-leeds", parent_present=True).parent_present
    for venue, code in ((None, "venue_required"), ("generic-clinic", "unknown_venue")):
        with pytest.raises(Refused) as refused:
            record(clinic(day), venue_id=venue)
        assert refused.value.code == code
    not_vaccinated = record(clinic(day), outcome=Outcome.NOT_VACCINATED, reason="absent")
    assert not_vaccinated.venue_id is None


def test_clinic_vaccination_defaults_to_the_venue_of_the_day() -> None:
    assert record(clinic(SessionDate(date(2026, 3, 3), "v-leeds"))).venue_id == "v-leeds"


def test_the_session_date_of_a_record_is_its_london_date() -> None:
    summer = clinic(SessionDate(date(2026, 6, 11), "v-leeds"))
    v = record(summer, performed_at=at("2026-06-10T23:30:00+00:00"), now=at("2026-06-11T08:00:00+00:00"))
    assert v.session_date == date(2026, 6, 11)


def test_a_repeat_says_the_same_whatever_time_it_arrives() -> None:
    v = record(school(date(2026, 3, 3)))
    same = {"child_id": v.child_id, "session_id": v.session_id, "programme": "hpv", "reason": None}
    assert v.repeats(outcome=Outcome.VACCINATED, parent_present=False, **same)
    assert not v.repeats(outcome=Outcome.NOT_VACCINATED, parent_present=False, **same)
