"""A row of a cohort upload checked field by field, and a chunk or a whole file checked row by row."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from cohort.importer import fields
from cohort.importer.columns import CHILD_FIRST_NAME, CHILD_LAST_NAME
from cohort.importer.csvfile import decode_csv, normalise_header, read_header_and_rows
from cohort.importer.errors import CohortFileError, RowError
from cohort.importer.fields import ParentRow
from contracts.cohort_csv import is_instruction_row


@dataclass(frozen=True, slots=True)
class CohortRow:
    """A valid child row of a cohort upload, with values normalised."""

    row_number: int
    first_name: str
    last_name: str
    date_of_birth: date
    postcode: str
    school_urn: str
    nhs_number: str | None
    year_group: int | None
    parents: tuple[ParentRow, ...]


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Outcome of parsing a whole cohort file: the valid rows and every error of the invalid ones."""

    rows: list[CohortRow]
    errors: list[RowError]

    @property
    def ok(self) -> bool:
        """True when no row had an error, so the upload can be accepted as a whole."""
        return not self.errors


def validate_row(
    row_number: int, raw: Mapping[str, str], *, today: date, known_school_urns: Collection[str] | None = None
) -> CohortRow | list[RowError]:
    """Validate one row (keys as from read_header_and_rows) and return it normalised, or all its errors.

    With ``known_school_urns`` None any 6-digit URN is accepted; otherwise it must be one of them (the
    clinic URNs, school unknown and home-educated, are always accepted). ``today`` bounds the date of birth.
    """
    cells = fields.Cells(row_number, raw)
    first_name = fields.person_name(cells, CHILD_FIRST_NAME, required=True)
    last_name = fields.person_name(cells, CHILD_LAST_NAME, required=True)
    date_of_birth = fields.date_of_birth(cells, today)
    postcode = fields.postcode(cells)
    school_urn = fields.school_urn(cells, known_school_urns)
    nhs_number = fields.nhs_number(cells)
    year_group = fields.year_group(cells)
    parents = fields.parents(cells)
    if cells.errors or not (first_name and last_name and date_of_birth and postcode and school_urn):
        return cells.errors
    return CohortRow(
        row_number=row_number,
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        postcode=postcode,
        school_urn=school_urn,
        nhs_number=nhs_number,
        year_group=year_group,
        parents=parents,
    )


def _validate_all(
    rows: Iterable[tuple[int, Mapping[str, str]]], *, today: date, known_school_urns: Collection[str] | None
) -> ParseResult:
    # A set makes the per-row membership test O(1) whatever collection the caller passed.
    urns = frozenset(known_school_urns) if known_school_urns is not None else None
    valid: list[CohortRow] = []
    errors: list[RowError] = []
    for row_number, raw in rows:
        result = validate_row(row_number, raw, known_school_urns=urns, today=today)
        if isinstance(result, CohortRow):
            valid.append(result)
        else:
            errors.extend(result)
    return ParseResult(rows=valid, errors=errors)


def parse_cohort_csv(data: bytes, *, today: date, known_school_urns: Collection[str] | None = None) -> ParseResult:
    """Decode, parse and validate a whole cohort upload; raises CohortFileError if it is not of this format."""
    _, rows = read_header_and_rows(decode_csv(data))
    return _validate_all(rows, today=today, known_school_urns=known_school_urns)


def validate_rows(
    raw_header: list[str],
    rows: Iterable[tuple[int, list[str]]],
    *,
    today: date,
    known_school_urns: Collection[str] | None = None,
    first: bool = False,
) -> ParseResult:
    """Validate rows that arrive already split into cells (a chunk of an upload), with the raw header.

    A bad header makes every row uninterpretable, so only the header's errors (row 0) are returned then.
    Empty lines (no cells) are skipped; every other row is checked, a blank one too (the sender leaves out
    the blank rows after the last child). When the chunk is the `first` of its file, a first row that is
    the template's instructions is skipped.
    """
    try:
        header = normalise_header(raw_header)
    except CohortFileError as exc:
        return ParseResult(rows=[], errors=exc.errors)
    sent = [(n, cells) for n, cells in rows if cells]
    if first and sent and is_instruction_row(sent[0][1]):
        sent = sent[1:]
    named = ((n, dict(zip(header, cells, strict=False))) for n, cells in sent)
    return _validate_all(named, today=today, known_school_urns=known_school_urns)
