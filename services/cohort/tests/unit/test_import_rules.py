"""Import rules without IO: a child's identity, rows that are one child, rows a commit applies."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from cohort.import_rules import RowOutcome, SameChild, StagedChild, child_identity, is_applied, parent_id, same_children
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


def test_rows_sharing_an_nhs_number_are_one_child_and_the_number_is_blamed() -> None:
    rows = [staged(2, "9434765919"), staged(3, "9434765919", name="Other")]
    assert same_children(rows) == [SameChild(3, "CHILD_NHS_NUMBER", 2)]


def test_twins_by_details_need_one_of_them_without_an_nhs_number() -> None:
    rows = [staged(2, "9434765919"), staged(3, "4010232137"), staged(4), staged(5, "9999999999"), staged(6)]
    assert same_children(rows) == [SameChild(4, "", 2), SameChild(5, "", 4), SameChild(6, "", 2)]


def test_rows_matching_one_existing_child_are_one_child() -> None:
    existing = uuid.uuid4()
    rows = [staged(2, "9434765919", matched=existing), staged(3, "4010232137", name="Other", matched=existing)]
    assert same_children(rows) == [SameChild(3, "", 2)]


@pytest.mark.parametrize(
    ("outcome", "urn", "applied"),
    [
        (RowOutcome.CREATED, "100001", True),
        (RowOutcome.UPDATED, "100001", True),
        (RowOutcome.UNCHANGED, "100001", False),
        (RowOutcome.UNCHANGED, URN_UNKNOWN_SCHOOL, True),  # may join (again, for other programmes)
        (RowOutcome.UNCHANGED, URN_HOME_EDUCATED, True),
    ],
)
def test_a_commit_applies_rows_that_change_a_child_or_may_join_the_clinic(
    outcome: RowOutcome, urn: str, applied: bool
) -> None:
    assert is_applied(outcome, urn) is applied
