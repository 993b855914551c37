"""Import rules without IO: a child's identity, rows that are one child, rows a commit applies."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from cohort.import_rules import (
    Known,
    RowOutcome,
    SameChild,
    StagedChild,
    Upload,
    candidates,
    child_identity,
    is_applied,
    parent_id,
    repeated_nhs_numbers,
    row_outcome,
    row_programmes,
    same_children,
)
from contracts.common import URN_HOME_EDUCATED, URN_UNKNOWN_SCHOOL

pytestmark = pytest.mark.unit

BORN = date(2014, 5, 6)


def staged(
    row: int, nhs_number: str | None = None, *, name: str = "Jane", matched: uuid.UUID | None = None
) -> StagedChild:
    return StagedChild(row, nhs_number, name, "Doe", BORN, "LS1 4AP", matched)


def test_a_parent_keeps_their_id_when_the_same_child_is_imported_again() -> None:
    first = parent_id("RXX", child_identity(None, "Jane", "Doe", BORN, "LS1 4AP"), 1)
    again = parent_id("RXX", child_identity(None, "JANE", "doe", BORN, "LS1 4AP"), 1)
    other = parent_id("RXX", child_identity(None, "Jane", "Doe", BORN, "LS1 4AP"), 2)
    assert first == again != other
    assert child_identity("9434765919", "Jane", "Doe", BORN, "LS1 4AP") == "9434765919"


def test_every_row_sharing_an_nhs_number_is_named_the_first_included() -> None:
    rows = [staged(2, "9434765919"), staged(3, "4010232137"), staged(4, "9434765919", name="Other"), staged(5)]
    assert repeated_nhs_numbers(rows) == [2, 4]


def test_twins_by_details_need_one_of_them_without_an_nhs_number() -> None:
    rows = [staged(2, "9434765919"), staged(3, "4010232137"), staged(4), staged(5, "9999999999"), staged(6)]
    assert same_children(rows) == [SameChild(4, 2), SameChild(5, 4), SameChild(6, 2)]


def test_every_row_matching_one_existing_child_is_named_the_first_included() -> None:
    existing = uuid.uuid4()
    rows = [staged(2, "9434765919", matched=existing), staged(3, "4010232137", name="Other", matched=existing)]
    assert same_children(rows) == [SameChild(2, 3), SameChild(3, 2)]


def known(nhs_number: str | None = None, *, first: str = "Jane", born: date = BORN, postcode: str = "LS1 4AP") -> Known:
    return Known(uuid.uuid4(), nhs_number, first, "Doe", born, postcode, "100001", None, ())


def test_three_of_four_details_find_a_child_not_both_numbered() -> None:
    moved = known(postcode="LS2 9JT")
    assert candidates(staged(2), [moved]) == [moved.id]
    assert candidates(staged(2, "9434765919"), [moved]) == [moved.id]  # the child has no number yet
    assert candidates(staged(2, "9434765919"), [known("4010232137", postcode="LS2 9JT")]) == []
    assert candidates(staged(2), [known(first="Bo", postcode="LS2 9JT")]) == []  # two of four


def test_several_candidates_narrow_to_the_one_agreeing_on_all_four() -> None:
    exact, twin = known(), known(first="Bo")
    assert candidates(staged(2), [exact, twin]) == [exact.id]
    a, b = known(postcode="LS2 9JT"), known(born=date(2014, 5, 7))
    assert candidates(staged(2), [a, b]) == sorted([a.id, b.id])  # ambiguous: an error


UPLOAD = Upload("100001", None, ())


@pytest.mark.parametrize(
    ("row", "upload", "outcome"),
    [
        (staged(2, name="JANE"), UPLOAD, RowOutcome.UPDATED),  # a name's case alone is applied
        (staged(2, name="Janet"), UPLOAD, RowOutcome.REVIEW),
        (StagedChild(2, None, "Jane", "Doe", date(2014, 5, 7), "LS1 4AP"), UPLOAD, RowOutcome.REVIEW),
        (StagedChild(2, None, "Jane", "Doe", BORN, "LS2 9JT"), UPLOAD, RowOutcome.REVIEW),
        (staged(2), Upload("999999", None, ()), RowOutcome.REVIEW),  # a school change
        (staged(2), Upload("100001", 4, ()), RowOutcome.UPDATED),
        (staged(2, "9434765919"), UPLOAD, RowOutcome.UPDATED),  # the number is filled in
        (staged(2), UPLOAD, RowOutcome.UNCHANGED),
    ],
)
def test_what_a_row_does_to_the_child_it_matched(row: StagedChild, upload: Upload, outcome: RowOutcome) -> None:
    assert row_outcome(row, upload, known()) is outcome
    assert row_outcome(row, upload, None) is RowOutcome.CREATED


def test_a_row_is_for_the_programmes_of_its_year_group_the_file_s_first() -> None:
    assert row_programmes(["flu", "hpv"], None, date(2012, 1, 1), 2025) == ("flu", "hpv")  # year 9
    assert row_programmes(["flu", "hpv"], None, date(2016, 1, 1), 2025) == ("flu",)  # year 5
    assert row_programmes(["flu", "hpv"], 12, date(2016, 1, 1), 2025) == ()  # the file says year 12
    assert row_programmes(["hpv"], None, date(2016, 1, 1), 2025) == ()


@pytest.mark.parametrize(
    ("outcome", "urn", "applied"),
    [
        (RowOutcome.CREATED, "100001", True),
        (RowOutcome.UPDATED, "100001", True),
        (RowOutcome.UNCHANGED, "100001", False),
        (RowOutcome.UNCHANGED, URN_UNKNOWN_SCHOOL, True),  # may join (again, for other programmes)
        (RowOutcome.UNCHANGED, URN_HOME_EDUCATED, True),
        (RowOutcome.REVIEW, URN_HOME_EDUCATED, False),  # nothing until staff decide
        (RowOutcome.REVIEW, "100001", False),
    ],
)
def test_a_commit_applies_rows_that_change_a_child_or_may_join_the_clinic(
    outcome: RowOutcome, urn: str, applied: bool
) -> None:
    assert is_applied(outcome, urn) is applied
