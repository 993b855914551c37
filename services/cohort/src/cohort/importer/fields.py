"""One check per field of a row: its normalised value, or an error for the row and None.

Each check reads its cells from a `Cells` and appends what it finds wrong, so a row reports every error
at once, in column order, and no message repeats a cell's value.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date

from cohort.importer.columns import (
    CHILD_DATE_OF_BIRTH,
    CHILD_NHS_NUMBER,
    CHILD_POSTCODE,
    CHILD_SCHOOL_URN,
    CHILD_YEAR_GROUP,
    PARENT_COLUMNS,
    ParentColumns,
)
from cohort.importer.errors import RowError
from cohort.importer.formats import is_valid_email, normalise_phone, normalise_postcode, parse_date
from contracts.common import CLINIC_URNS, URN_HOME_EDUCATED, URN_UNKNOWN_SCHOOL
from contracts.nhs_number import is_valid_nhs_number, normalise_nhs_number

MAX_NAME_LENGTH = 300
EARLIEST_DATE_OF_BIRTH = date(2000, 1, 1)

_URN = re.compile(r"\d{6}", re.ASCII)
_YEAR_GROUP = re.compile(r"-?\d{1,2}", re.ASCII)
# The real service's person-name characters: ASCII letters, digits and underscore, Latin-1 and Latin
# Extended-A letters, space, apostrophes (plain, grave, U+2019, U+02BC), full stop and hyphen.
_PERSON_NAME = re.compile("[A-Za-z0-9_\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f '`\u2019\u02bc.-]+")
# Other apostrophes are stored as a plain one so that both spellings of a name match later.
_OTHER_APOSTROPHES = re.compile("[`\u2019\u02bc]")


@dataclass(frozen=True, slots=True)
class ParentRow:
    """A parent or carer named on a cohort row."""

    name: str | None
    relationship: str | None
    email: str | None
    phone: str | None


@dataclass(slots=True)
class Cells:
    """One row's cells (by normalised column name) and the errors its checks have found so far."""

    row_number: int
    raw: Mapping[str, str]
    errors: list[RowError] = field(default_factory=list)

    def get(self, column: str) -> str:
        return self.raw.get(column, "").strip()

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.row_number, column, message))

    def required(self, column: str) -> str | None:
        value = self.get(column)
        if not value:
            self.error(column, "is required but missing")
        return value or None


def person_name(cells: Cells, column: str, *, required: bool) -> str | None:
    value = cells.required(column) if required else cells.get(column)
    if not value:
        return None
    if len(value) > MAX_NAME_LENGTH:
        cells.error(column, f"must be at most {MAX_NAME_LENGTH} characters")
        return None
    if _PERSON_NAME.fullmatch(value) is None:
        cells.error(column, "includes invalid character(s)")
        return None
    if value.isascii() and "`" not in value:
        return value
    return _OTHER_APOSTROPHES.sub("'", value)


def date_of_birth(cells: Cells, today: date) -> date | None:
    raw = cells.required(CHILD_DATE_OF_BIRTH)
    born = parse_date(raw) if raw else None
    if raw and born is None:
        cells.error(CHILD_DATE_OF_BIRTH, "should be a real date formatted as YYYY-MM-DD or DD/MM/YYYY")
    elif born is not None and born < EARLIEST_DATE_OF_BIRTH:
        cells.error(CHILD_DATE_OF_BIRTH, "must be on or after 1 January 2000")
        return None
    elif born is not None and born > today:
        cells.error(CHILD_DATE_OF_BIRTH, "must not be in the future")
        return None
    return born


def postcode(cells: Cells) -> str | None:
    raw = cells.required(CHILD_POSTCODE)
    normalised = normalise_postcode(raw) if raw else None
    if raw and normalised is None:
        cells.error(CHILD_POSTCODE, "should be a valid UK postcode, like SW1A 1AA")
    return normalised


def school_urn(cells: Cells, known_school_urns: Collection[str] | None) -> str | None:
    """A 6-digit URN (of the team's schools, when they are given), or one of the clinic URNs."""
    urn = cells.required(CHILD_SCHOOL_URN)
    if urn is None or urn in CLINIC_URNS:
        return urn
    if _URN.fullmatch(urn) is None:
        cells.error(
            CHILD_SCHOOL_URN,
            f"should be a 6-digit school URN, {URN_UNKNOWN_SCHOOL} (school unknown)"
            f" or {URN_HOME_EDUCATED} (home-educated)",
        )
        return None
    if known_school_urns is not None and urn not in known_school_urns:
        cells.error(CHILD_SCHOOL_URN, "is not a school of this team")
        return None
    return urn


def nhs_number(cells: Cells) -> str | None:
    number = normalise_nhs_number(cells.raw.get(CHILD_NHS_NUMBER, "")) or None
    if number is not None and not is_valid_nhs_number(number):
        cells.error(CHILD_NHS_NUMBER, "should be a valid NHS number with 10 digits")
    return number


def year_group(cells: Cells) -> int | None:
    raw = cells.get(CHILD_YEAR_GROUP)
    if not raw:
        return None
    if _YEAR_GROUP.fullmatch(raw) is None:
        cells.error(CHILD_YEAR_GROUP, "should be a whole number, like 9")
        return None
    return int(raw)


def _relationship(cells: Cells, column: str) -> str | None:
    relationship = cells.get(column) or None
    if relationship is not None and len(relationship) > MAX_NAME_LENGTH:
        # Unchecked, a megabyte cell would travel in every ChildrenUpserted that carries the child.
        cells.error(column, f"must be at most {MAX_NAME_LENGTH} characters")
        return None
    return relationship


def _email(cells: Cells, column: str) -> str | None:
    email = cells.get(column).lower() or None
    if email is not None and not is_valid_email(email):
        cells.error(column, "should be a valid email address, like j.doe@example.com")
    return email


def _phone(cells: Cells, column: str) -> str | None:
    raw = cells.get(column)
    phone = normalise_phone(raw) if raw else None
    if raw and phone is None:
        cells.error(column, "should be a valid UK phone number, like 07700 900982 or 01632 960001")
    return phone


def parent(cells: Cells, columns: ParentColumns) -> ParentRow | None:
    """The parent these columns name, or None when they name nobody."""
    name_column, relationship_column, email_column, phone_column = columns
    name = person_name(cells, name_column, required=False)
    relationship = _relationship(cells, relationship_column)
    email, phone = _email(cells, email_column), _phone(cells, phone_column)
    # Judge presence on the raw cells: an invalid email still means the parent exists.
    if cells.get(name_column) or cells.get(email_column) or cells.get(phone_column):
        return ParentRow(name=name, relationship=relationship, email=email, phone=phone)
    if relationship is not None:
        cells.error(relationship_column, "must be blank when the parent has no name, email or phone")
    return None


def parents(cells: Cells) -> tuple[ParentRow, ...]:
    return tuple(p for columns in PARENT_COLUMNS if (p := parent(cells, columns)) is not None)
