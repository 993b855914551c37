"""Test data: NHS numbers the services accept, one per seed, and cohort rows in the upload's shape."""

from __future__ import annotations

import random
from datetime import date

import pytest

from cohort.importer import normalise_phone
from contracts.nhs_number import is_valid_nhs_number
from testkit.data import A_SCHOOL, HEADER, URN_HOME_EDUCATED, all_day_team, cohort_row, nhs_number

pytestmark = pytest.mark.unit


def test_nhs_numbers_are_valid_and_distinct_for_distinct_seeds() -> None:
    seeds = [*range(5000), *random.Random(7).sample(range(10**8), 5000), 10**8 - 1]
    numbers = [nhs_number(seed) for seed in seeds]
    assert len(set(numbers)) == len(set(seeds))
    assert all(is_valid_nhs_number(n) for n in numbers)


def test_an_nhs_number_is_the_seeds_own_and_in_the_test_range_where_it_can_be() -> None:
    assert nhs_number(12) == nhs_number(12)
    assert nhs_number(12) == nhs_number(10**8 + 12)  # seeds are taken modulo 10**8
    numbers = [nhs_number(seed) for seed in range(1000)]
    assert all(n[1:9] == f"{seed:08d}" for seed, n in enumerate(numbers))
    assert sum(n.startswith("9") for n in numbers) > 850  # the rest had no check digit under a 9


def test_a_cohort_row_fills_the_upload_s_columns_and_names_a_parent_only_with_a_contact() -> None:
    row = cohort_row(first_name="Alex", last_name="Tester", nhs=nhs_number(1), urn=URN_HOME_EDUCATED,
                     email="p@example.com", phone="07700900123")  # fmt: skip
    assert dict(zip(HEADER, row, strict=True)) == {
        "CHILD_FIRST_NAME": "Alex", "CHILD_LAST_NAME": "Tester", "CHILD_DATE_OF_BIRTH": "2015-03-14",
        "CHILD_NHS_NUMBER": nhs_number(1), "CHILD_SCHOOL_URN": "999999", "CHILD_POSTCODE": "SW1A 1AA",
        "PARENT_1_NAME": "Pat Parent", "PARENT_1_RELATIONSHIP": "Mother", "PARENT_1_EMAIL": "p@example.com",
        "PARENT_1_PHONE": "07700900123",
    }  # fmt: skip
    assert normalise_phone(row[-1]) == row[-1]
    alone = cohort_row(first_name="A", last_name="B", nhs=nhs_number(2), urn=A_SCHOOL, born=date(2016, 1, 2))
    assert alone[2] == "2016-01-02" and alone[6:] == ["", "", "", ""]


def test_an_all_day_team_sends_at_any_hour_and_invites_within_three_weeks() -> None:
    team = all_day_team("T1234", days_before=0)
    assert (team.ods_code, team.days_before_invitations) == ("T1234", 0)
    assert (team.send_window_start.hour, team.send_window_end.hour) == (0, 23)
    assert all_day_team("T1234").days_before_invitations == 21
