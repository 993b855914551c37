"""How people read times: Europe/London to the minute, right on both sides of each clock change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from msgkit.clock import readable, readable_iso

pytestmark = pytest.mark.unit

# The clocks change at 01:00 UTC on the last Sunday of March (to BST) and of October (back to GMT).
SPRING = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
AUTUMN = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_a_minute_before_the_spring_change_is_gmt_and_the_change_itself_is_bst() -> None:
    assert readable(SPRING - MINUTE) == "29 Mar 2026 00:59"
    assert readable(SPRING) == "29 Mar 2026 02:00"


def test_a_minute_before_the_autumn_change_is_bst_and_the_change_itself_is_gmt() -> None:
    assert readable(AUTUMN - MINUTE) == "25 Oct 2026 01:59"
    assert readable(AUTUMN) == "25 Oct 2026 01:00"


def test_summer_and_winter_days_of_other_years_follow_their_own_changes() -> None:
    # 2027 changes on 28 March and 31 October: a fixed offset or 2026's dates would be wrong here.
    assert readable(datetime(2027, 3, 28, 0, 30, tzinfo=UTC)) == "28 Mar 2027 00:30"
    assert readable(datetime(2027, 3, 28, 1, 30, tzinfo=UTC)) == "28 Mar 2027 02:30"
    assert readable(datetime(2027, 10, 30, 23, 30, tzinfo=UTC)) == "31 Oct 2027 00:30"
    assert readable(datetime(2027, 10, 31, 1, 30, tzinfo=UTC)) == "31 Oct 2027 01:30"


def test_a_moment_is_shown_to_the_minute_whatever_offset_it_was_written_in() -> None:
    written_in_new_york = datetime(2026, 12, 2, 14, 8, 43, 949262, tzinfo=timezone(timedelta(hours=-5)))
    assert readable(written_in_new_york) == "2 Dec 2026 19:08"


def test_a_day_has_no_time_and_no_leading_zero() -> None:
    assert readable(date(2026, 12, 2)) == "2 Dec 2026"
    assert readable(date(2027, 1, 31)) == "31 Jan 2027"


def test_a_naive_moment_is_refused_because_it_names_no_zone() -> None:
    with pytest.raises(ValueError, match="aware"):
        readable(datetime(2026, 12, 2, 19, 8))


def test_iso_text_from_json_reads_the_same_as_the_value_it_names() -> None:
    assert readable_iso("2026-12-02T19:08:43.949262+00:00") == "2 Dec 2026 19:08"
    assert readable_iso("2026-07-01T08:00:00Z") == "1 Jul 2026 09:00"
    assert readable_iso((AUTUMN - MINUTE).isoformat()) == readable(AUTUMN - MINUTE)
    assert readable_iso("2026-12-02") == "2 Dec 2026"


@pytest.mark.parametrize("text", ["", "RYG", "2026-12-02T19:08", "2026-02-30", "20261202", "Flu 2026-12-02"])
def test_text_that_is_not_a_day_or_an_offset_moment_is_left_as_it_is(text: str) -> None:
    assert readable_iso(text) == text
