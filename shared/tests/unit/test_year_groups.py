"""contracts.common's year groups: a child's school year, and which programmes are for it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from contracts.common import YEAR_GROUPS, Programme, birth_dates_for, offers, programmes_for, year_group

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("born", "academic_year", "group"),
    [
        (date(2010, 1, 1), 2024, 10),  # the real service's test files, in its tests' 2024/25
        (date(2010, 8, 31), 2024, 10),
        (date(2010, 9, 1), 2024, 9),  # born on 1 September: the youngest of the next year
        (date(2019, 9, 1), 2024, 0),  # reception in the year they turn five
        (date(2014, 5, 6), 2025, 7),
    ],
)
def test_a_child_s_year_group(born: date, academic_year: int, group: int) -> None:
    assert year_group(born, academic_year) == group


def test_each_programme_s_year_groups_are_the_real_service_s_defaults() -> None:
    assert {p: (r[0], r[-1]) for p, r in YEAR_GROUPS.items()} == {
        Programme.FLU: (0, 11), Programme.HPV: (8, 11), Programme.MENACWY: (9, 11),
        Programme.TD_IPV: (9, 11), Programme.MMR: (0, 11),
    }  # fmt: skip


def test_programmes_for_a_year_group_keep_the_order_given() -> None:
    assert programmes_for(["hpv", "flu", "hpv"], 9) == ("hpv", "flu")
    assert programmes_for(["hpv", "flu"], 5) == ("flu",)
    assert programmes_for(["hpv", "flu"], 12) == ()
    assert not offers("flu", -1) and offers("flu", 0) and not offers("hpv", 7)


@pytest.mark.parametrize("programme", list(Programme))
def test_the_birth_dates_of_a_programme_are_exactly_its_year_groups(programme: Programme) -> None:
    first, last = birth_dates_for(programme, 2026)
    day = first - timedelta(days=400)
    while day <= last + timedelta(days=400):
        assert offers(programme, year_group(day, 2026)) == (first <= day <= last), day
        day += timedelta(days=1)
