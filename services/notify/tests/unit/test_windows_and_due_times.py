"""Sending windows and invitation due times (SPEC §2.3), including British Summer Time changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msgkit.clock import LONDON, academic_year_of
from notify.domain.timing import SendingWindow, invitation_due_at, next_opening

pytestmark = pytest.mark.unit

WINDOW = SendingWindow()
# 2026: clocks go forward on Sunday 29 March and back on Sunday 25 October.
MONDAY_AFTER_SPRING_FORWARD = date(2026, 3, 30)
MONDAY_AFTER_FALL_BACK = date(2026, 10, 26)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def due(now: datetime, first: date | None, trigger: str = "automatic", days_before: int = 21) -> datetime | None:
    return invitation_due_at(
        now=now,
        first_clinic_date=first,
        days_before=days_before,
        trigger=trigger,  # type: ignore[arg-type]
        window=WINDOW,
    )


class TestNextOpening:
    @pytest.mark.parametrize(
        ("at", "expected"),
        [
            (utc(2026, 1, 12, 8, 59), utc(2026, 1, 12, 9, 0)),  # 08:59 GMT: wait a minute
            (utc(2026, 1, 12, 9, 0), utc(2026, 1, 12, 9, 0)),  # 09:00 GMT: open
            (utc(2026, 1, 12, 18, 59, 59), utc(2026, 1, 12, 18, 59, 59)),
            (utc(2026, 1, 12, 19, 0), utc(2026, 1, 13, 9, 0)),  # 19:00 is closed
            (utc(2026, 6, 15, 7, 59), utc(2026, 6, 15, 8, 0)),  # 08:59 BST
            (utc(2026, 6, 15, 8, 0), utc(2026, 6, 15, 8, 0)),  # 09:00 BST
            (utc(2026, 6, 15, 18, 0), utc(2026, 6, 16, 8, 0)),  # 19:00 BST, though 18:00 UTC
            (utc(2026, 6, 15, 23, 30), utc(2026, 6, 16, 8, 0)),  # 00:30 BST on the 16th
        ],
    )
    def test_inside_stays_outside_moves_to_next_opening(self, at: datetime, expected: datetime) -> None:
        assert next_opening(at, WINDOW) == expected

    def test_evening_before_spring_forward_opens_at_0800_utc(self) -> None:
        assert next_opening(utc(2026, 3, 28, 19, 30), WINDOW) == utc(2026, 3, 29, 8, 0)

    def test_evening_before_fall_back_opens_at_0900_utc(self) -> None:
        assert next_opening(london(2026, 10, 24, 20, 0), WINDOW) == utc(2026, 10, 25, 9, 0)

    def test_result_is_utc_whatever_zone_comes_in(self) -> None:
        result = next_opening(london(2026, 7, 1, 12, 0), WINDOW)
        assert result == utc(2026, 7, 1, 11, 0)
        assert result.tzinfo is UTC

    def test_naive_datetime_is_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            next_opening(datetime(2026, 1, 1, 12), WINDOW)

    def test_custom_window(self) -> None:
        window = SendingWindow(start=time(10, 30), end=time(16, 0))
        assert next_opening(utc(2026, 1, 5, 16, 0), window) == utc(2026, 1, 6, 10, 30)

    @pytest.mark.parametrize(("start", "end"), [(time(19), time(9)), (time(9), time(9))])
    def test_window_must_start_before_it_ends(self, start: time, end: time) -> None:
        with pytest.raises(ValueError, match="start before"):
            SendingWindow(start=start, end=end)

    @given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)))
    def test_always_inside_the_window_and_never_early(self, at: datetime) -> None:
        result = next_opening(at, WINDOW)
        local = result.astimezone(LONDON).time()
        assert result >= at
        assert WINDOW.start <= local < WINDOW.end
        assert result == at or local == WINDOW.start
        assert result - at < timedelta(hours=15)


class TestAutomaticInvitation:
    def test_due_21_days_before_at_window_opening_in_bst(self) -> None:
        first = MONDAY_AFTER_SPRING_FORWARD + timedelta(days=21)
        assert due(utc(2026, 3, 1, 10), first) == utc(2026, 3, 30, 8, 0)  # 09:00 BST

    def test_due_21_days_before_at_window_opening_in_gmt(self) -> None:
        first = MONDAY_AFTER_FALL_BACK + timedelta(days=21)
        assert due(utc(2026, 10, 1, 10), first) == utc(2026, 10, 26, 9, 0)  # 09:00 GMT

    def test_team_setting_days_before(self) -> None:
        assert due(utc(2026, 1, 5, 10), date(2026, 2, 10), days_before=7) == utc(2026, 2, 3, 9, 0)

    def test_early_morning_of_due_day_waits_for_the_window(self) -> None:
        assert due(london(2026, 3, 30, 7, 0), date(2026, 4, 20)) == utc(2026, 3, 30, 8, 0)

    def test_joined_later_inside_the_window_is_due_now(self) -> None:
        now = london(2026, 4, 2, 14, 15)
        assert due(now, date(2026, 4, 20)) == now.astimezone(UTC)

    def test_joined_later_in_the_evening_moves_to_next_morning(self) -> None:
        assert due(london(2026, 4, 2, 19, 0), date(2026, 4, 20)) == utc(2026, 4, 3, 8, 0)

    def test_joined_later_at_0859_waits_a_minute(self) -> None:
        assert due(london(2026, 11, 2, 8, 59), date(2026, 11, 16)) == utc(2026, 11, 2, 9, 0)

    def test_joined_later_on_saturday_night_before_spring_forward(self) -> None:
        assert due(london(2026, 3, 28, 22, 0), date(2026, 4, 10)) == utc(2026, 3, 29, 8, 0)

    def test_no_upcoming_date_waits(self) -> None:
        assert due(utc(2026, 4, 2, 12), None) is None

    @pytest.mark.parametrize("first", [date(2026, 4, 2), date(2026, 3, 1)])
    def test_clinic_today_or_past_is_not_upcoming(self, first: date) -> None:
        assert due(london(2026, 4, 2, 8, 0), first) is None

    def test_clinic_tomorrow_london_is_upcoming_even_when_utc_says_today(self) -> None:
        # 00:30 BST on 3 April is still 2 April in UTC.
        assert due(london(2026, 4, 3, 0, 30), date(2026, 4, 3)) is None
        assert due(london(2026, 4, 2, 23, 30), date(2026, 4, 3)) == utc(2026, 4, 3, 8, 0)

    def test_negative_days_before_is_refused(self) -> None:
        with pytest.raises(ValueError, match="days_before"):
            due(utc(2026, 1, 1, 12), date(2026, 2, 1), days_before=-1)

    def test_naive_now_is_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            due(datetime(2026, 1, 1, 12), date(2026, 2, 1))


class TestStaffTriggeredInvitation:
    def test_goes_out_next_morning(self) -> None:
        assert due(london(2026, 5, 11, 14, 0), date(2026, 5, 20), "staff") == utc(2026, 5, 12, 8, 0)

    def test_even_if_triggered_before_todays_window_opens(self) -> None:
        assert due(london(2026, 5, 11, 7, 0), date(2026, 5, 20), "staff") == utc(2026, 5, 12, 8, 0)

    def test_next_day_is_the_london_day(self) -> None:
        # 00:30 BST on Tuesday 12 May is Monday 23:30 UTC: "tomorrow" is Wednesday.
        assert due(london(2026, 5, 12, 0, 30), date(2026, 5, 20), "staff") == utc(2026, 5, 13, 8, 0)

    def test_across_spring_forward(self) -> None:
        assert due(london(2026, 3, 28, 12, 0), date(2026, 4, 10), "staff") == utc(2026, 3, 29, 8, 0)

    def test_across_fall_back(self) -> None:
        assert due(london(2026, 10, 24, 12, 0), date(2026, 11, 5), "staff") == utc(2026, 10, 25, 9, 0)

    def test_next_day_whatever_the_first_date(self) -> None:
        # The case: staff send on 7 Dec 2026, first clinic 5 Feb 2027 -> 8 Dec 09:00, not 15 Jan.
        assert due(london(2026, 12, 7, 12, 0), date(2027, 2, 5), "staff") == utc(2026, 12, 8, 9, 0)

    def test_a_clinic_tomorrow_is_still_next_day(self) -> None:
        assert due(london(2026, 12, 7, 12, 0), date(2026, 12, 8), "staff") == utc(2026, 12, 8, 9, 0)

    def test_no_upcoming_date_waits(self) -> None:
        assert due(london(2026, 1, 5, 12, 0), None, "staff") is None

    def test_uses_the_team_window_start(self) -> None:
        window = SendingWindow(start=time(10, 0), end=time(16, 0))
        result = invitation_due_at(
            now=london(2026, 1, 5, 12),
            first_clinic_date=date(2026, 1, 20),
            days_before=21,
            trigger="staff",
            window=window,
        )
        assert result == utc(2026, 1, 6, 10, 0)

    @given(
        now=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
        days_ahead=st.integers(min_value=1, max_value=60),
        days_before=st.integers(min_value=0, max_value=40),
        trigger=st.sampled_from(["automatic", "staff"]),
    )
    def test_due_is_inside_window_and_not_before_now(
        self, now: datetime, days_ahead: int, days_before: int, trigger: str
    ) -> None:
        first = now.astimezone(LONDON).date() + timedelta(days=days_ahead)
        result = due(now, first, trigger, days_before)
        assert result is not None
        local = result.astimezone(LONDON)
        assert result >= now
        assert WINDOW.start <= local.time() < WINDOW.end
        if trigger == "staff":
            assert local.date() > now.astimezone(LONDON).date()


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2026, 9, 1), 2026),
        (date(2027, 8, 31), 2026),
        (date(2026, 8, 31), 2025),
        (date(2027, 1, 1), 2026),
    ],
)
def test_academic_year_runs_september_to_august(day: date, year: int) -> None:
    assert academic_year_of(day) == year
