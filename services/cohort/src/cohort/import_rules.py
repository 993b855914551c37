"""The rules of a cohort import beyond one row: who a row's child is, which rows are one child, what a
row does to its child, and the life of an import. Pure: no IO (import_sql applies them set-wise)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from cohort.domain import reason_for_school
from contracts.common import programmes_for
from contracts.common import year_group as contract_year_group


class ImportStatus(StrEnum):
    """Chunks are staged, then one commit applies them batch by batch, then the import is done.

    A refused import is rejected, and one whose commit never came is abandoned (`ABANDON_AFTER`); either
    way its staged rows, which hold children's and parents' details, are deleted.
    """

    STAGING = "staging"
    APPLYING = "applying"
    COMMITTED = "committed"
    REJECTED = "rejected"
    ABANDONED = "abandoned"


# The CLI stages a 100,000-row file in a minute or two and commits at once; a day later nobody will.
ABANDON_AFTER = timedelta(hours=24)


class RowOutcome(StrEnum):
    """What a committed row does to its child; a row held for review does nothing until staff decide."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REVIEW = "review"


class MatchedOn(StrEnum):
    """How a row found its existing child: the same NHS number, or three of name, birth date and postcode."""

    NHS_NUMBER = "nhs_number"
    DETAILS = "details"


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What a commit applies rows with, fixed when it starts."""

    programmes: tuple[str, ...]
    academic_year: int
    joined_on: date


def is_applied(outcome: RowOutcome, school_urn: str) -> bool:
    """A row is applied when it changes its child, or when its child may join the clinic cohort by school;
    never while it is held for review."""
    if outcome is RowOutcome.REVIEW:
        return False
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


def repeated_nhs_numbers(rows: Iterable[StagedChild]) -> list[int]:
    """Every row whose NHS number another row of the file has too, the first one included (the real
    service's "The same NHS number appears multiple times in this file")."""
    counts = Counter(r.nhs_number for r in rows if r.nhs_number is not None)
    return sorted(r.row_number for r in rows if r.nhs_number is not None and counts[r.nhs_number] > 1)


@dataclass(frozen=True, slots=True)
class SameChild:
    """A row that is the same child as another row of the file: the earliest such row."""

    row_number: int
    first_row: int


def _twins(row: StagedChild, rows: Iterable[StagedChild]) -> list[int]:
    found = []
    for other in rows:
        if other.row_number == row.row_number:
            continue
        if (
            other.row_number < row.row_number
            and other.details == row.details
            and (row.nhs_number is None or other.nhs_number is None)
        ):
            found.append(other.row_number)
        if row.matched is not None and other.matched == row.matched:
            found.append(other.row_number)
    return found


def same_children(rows: Iterable[StagedChild]) -> list[SameChild]:
    """The rows that are a child another row already is (an import with any is refused).

    A row is its earlier twin's child again when they share name (any case), date of birth and postcode
    with at least one of them lacking an NHS number (rows sharing a number are `repeated_nhs_numbers`);
    and rows that matched the same existing child are each flagged, the first one included, as the real
    service does. Each row names the earliest other row it is one child with.
    """
    ordered = sorted(rows, key=lambda r: r.row_number)
    return [SameChild(row.row_number, min(twins)) for row in ordered if (twins := _twins(row, ordered))]


# --- matching a row to an existing child, and what it does to it -----------------------------------------


@dataclass(frozen=True, slots=True)
class Known:
    """An existing child of the team, as matching and the row's outcome see them."""

    id: uuid.UUID
    nhs_number: str | None
    first_name: str
    last_name: str
    date_of_birth: date
    postcode: str
    school_urn: str = ""
    year_group: int | None = None
    parents: tuple[object, ...] = ()


def _agreeing(row: StagedChild, child: Known) -> tuple[bool, bool, bool, bool]:
    return (
        row.first_name.lower() == child.first_name.lower(),
        row.last_name.lower() == child.last_name.lower(),
        row.date_of_birth == child.date_of_birth,
        row.postcode == child.postcode,
    )


def candidates(row: StagedChild, children: Iterable[Known]) -> list[uuid.UUID]:
    """The children a row without an NHS match may be (the real service's PatientMatcher): those agreeing
    on three of first name, last name, date of birth and postcode, and not both holding an NHS number;
    several narrow to the one agreeing on all four, if exactly one does. Two or more left is an error."""
    found = [c for c in children if sum(_agreeing(row, c)) >= 3 and (row.nhs_number is None or c.nhs_number is None)]
    exact = [c for c in found if all(_agreeing(row, c))]
    chosen = exact if len(found) > 1 and len(exact) == 1 else found
    return sorted(c.id for c in chosen)


@dataclass(frozen=True, slots=True)
class Upload:
    """What a row would write to its child besides who they are: school, year group and parents."""

    school_urn: str
    year_group: int | None
    parents: tuple[object, ...]


def row_outcome(row: StagedChild, upload: Upload, child: Known | None) -> RowOutcome:
    """New child; held for review when it would change who the matched child is (name, date of birth,
    postcode, school), or found them on fewer than all four details; else updated or unchanged."""
    if child is None:
        return RowOutcome.CREATED
    if not all(_agreeing(row, child)) or upload.school_urn != child.school_urn:
        return RowOutcome.REVIEW
    same = (
        (row.first_name, row.last_name) == (child.first_name, child.last_name)
        and upload.year_group == child.year_group
        and upload.parents == child.parents
        and (row.nhs_number is None or row.nhs_number == child.nhs_number)
    )
    return RowOutcome.UNCHANGED if same else RowOutcome.UPDATED


# --- year groups -----------------------------------------------------------------------------------------


def row_programmes(
    programmes: Iterable[str], year_group: int | None, born: date, academic_year: int
) -> tuple[str, ...]:
    """The import's programmes a row's child is for: by the file's year group when it gives one (as the
    real service reads it), else by date of birth. None at all is the row's error."""
    return programmes_for(
        programmes, year_group if year_group is not None else contract_year_group(born, academic_year)
    )


# --- rows held for review ---------------------------------------------------------------------------------

COMPARED = ("nhs_number", "first_name", "last_name", "date_of_birth", "postcode", "school_urn", "year_group")


@dataclass(frozen=True, slots=True)
class HeldRow:
    """An import row held for staff review: what it uploaded, the child it matched, and the import's plan."""

    import_id: uuid.UUID
    row_number: int
    team_ods: str
    child_id: uuid.UUID
    matched_on: MatchedOn
    details: dict[str, Any]  # COMPARED, as uploaded
    parents: list[dict[str, Any]]
    new_child_id: uuid.UUID
    plan: ImportPlan
    decision: str | None = None
    decided_by: str | None = None


def differences(uploaded: dict[str, Any], existing: dict[str, Any]) -> list[str]:
    """The compared fields an upload would change (an NHS number it lacks changes nothing; names by case
    alone are the same person's)."""
    found = []
    for name in COMPARED:
        new, old = uploaded.get(name), existing.get(name)
        if name == "nhs_number" and new is None:
            continue
        if isinstance(new, str) and isinstance(old, str) and name.endswith("_name"):
            new, old = new.lower(), old.lower()
        if new != old:
            found.append(name)
    return found


def rekeyed_parents(team_ods: str, child_id: uuid.UUID, parents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A new child's own parent ids (kept both: the upload's ids were made for the child it matched)."""
    return [
        {**p, "parent_id": str(parent_id(team_ods, str(child_id), position))}
        for position, p in enumerate(parents, start=1)
    ]
