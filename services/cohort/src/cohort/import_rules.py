"""The rules of a cohort import beyond one row: who a row's child is, which rows are one child, what a
row does to its child, and the life of an import. Pure: no IO (import_sql applies them set-wise)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from cohort.domain import reason_for_school
from cohort.importer.columns import CHILD_NHS_NUMBER


class ImportStatus(StrEnum):
    """Chunks are staged, then one commit applies them batch by batch, then the import is done."""

    STAGING = "staging"
    APPLYING = "applying"
    COMMITTED = "committed"


class RowOutcome(StrEnum):
    """What a committed row does to its child."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What a commit applies rows with, fixed when it starts."""

    programmes: tuple[str, ...]
    academic_year: int
    joined_on: date


def is_applied(outcome: RowOutcome, school_urn: str) -> bool:
    """A row is applied when it changes its child, or when its child may join the clinic cohort by school."""
    return outcome is not RowOutcome.UNCHANGED or reason_for_school(school_urn) is not None


@dataclass(frozen=True, slots=True)
class StagedChild:
    """Who a staged row says its child is, and the existing child it matched (if any)."""

    row_number: int
    nhs_number: str | None
    first_name: str
    last_name: str
    date_of_birth: date
    postcode: str
    matched: uuid.UUID | None = None

    @property
    def details(self) -> tuple[str, str, str, str]:
        """Name (any case), date of birth and postcode: who the child is without an NHS number."""
        return (self.first_name.lower(), self.last_name.lower(), self.date_of_birth.isoformat(), self.postcode)


def child_identity(nhs_number: str | None, first_name: str, last_name: str, born: date, postcode: str) -> str:
    """What an import matches a child on: the NHS number, else name, date of birth and postcode."""
    return nhs_number or "|".join(StagedChild(0, None, first_name, last_name, born, postcode).details)


_PARENT_IDS = uuid.UUID("3f1d2c9e-5b7a-4e8f-9c01-6d2b8a4f7e10")


def parent_id(team_ods: str, child_identity: str, position: int) -> uuid.UUID:
    """A parent's id, the same every time the same child's file names them in the same place."""
    return uuid.uuid5(_PARENT_IDS, f"{team_ods}|{child_identity}|{position}")


@dataclass(frozen=True, slots=True)
class SameChild:
    """A row that is the same child as an earlier one: the earliest such row, and the column to blame."""

    row_number: int
    column: str
    first_row: int


def _twins(row: StagedChild, earlier: Iterable[StagedChild]) -> list[tuple[int, str]]:
    found = []
    for other in earlier:
        if row.nhs_number is not None and other.nhs_number == row.nhs_number:
            found.append((other.row_number, CHILD_NHS_NUMBER))
        if other.details == row.details and (row.nhs_number is None or other.nhs_number is None):
            found.append((other.row_number, ""))
        if row.matched is not None and other.matched == row.matched:
            found.append((other.row_number, ""))
    return found


def same_children(rows: Iterable[StagedChild]) -> list[SameChild]:
    """The rows that are a child an earlier row already is (an import with any is refused).

    Two rows are one child when they share an NHS number; or name (any case), date of birth and postcode
    with at least one of them lacking a number; or when both matched the same existing child. Each row
    names its earliest twin, blaming the NHS number when that is what they share.
    """
    ordered = sorted(rows, key=lambda r: r.row_number)
    found = []
    for position, row in enumerate(ordered):
        twins = _twins(row, ordered[:position])
        if twins:
            first_row, column = min(twins, key=lambda t: (t[0], t[1] != CHILD_NHS_NUMBER))
            found.append(SameChild(row.row_number, column, first_row))
    return found
