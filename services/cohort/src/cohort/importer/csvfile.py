"""Reading an upload's bytes: its encoding, its header row, and its rows as dicts by column name."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from cohort.importer.columns import READ_COLUMNS, REQUIRED_COLUMNS
from cohort.importer.errors import FORMAT_MESSAGE, CohortFileError, RowError
from contracts.cohort_csv import is_blank, is_instruction_row

# Lines with their endings kept, so quoted fields spanning lines still parse; \r alone counts as an ending.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def decode_csv(data: bytes) -> str:
    """Decode an uploaded file as UTF-8 (BOM optional), falling back to ISO-8859-1 as the real service does."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Every byte sequence is valid ISO-8859-1, so this cannot fail.
        return data.decode("iso-8859-1")


def _normalise_column(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().upper()


def _iter_lines(text: str) -> Iterator[str]:
    for match in _LINE.finditer(text):
        yield match.group()


def _empty_header() -> CohortFileError:
    return CohortFileError([RowError(0, "", FORMAT_MESSAGE)], f"{FORMAT_MESSAGE}: the header row is empty")


def _check_header(header: list[str]) -> None:
    present = set(header)
    if present.isdisjoint(REQUIRED_COLUMNS):
        # Nothing we recognise: this is some other file, so column-by-column errors would only confuse.
        raise CohortFileError([RowError(0, "", FORMAT_MESSAGE)])
    errors = [
        RowError(0, column, "is missing from the header row") for column in REQUIRED_COLUMNS if column not in present
    ]
    if len(present) != len(header):
        seen: set[str] = set()
        for column in header:
            if column in seen and column in READ_COLUMNS:
                errors.append(RowError(0, column, "appears more than once in the header row"))
            seen.add(column)
    if errors:
        columns = ", ".join(error.column for error in errors)
        raise CohortFileError(errors, f"{FORMAT_MESSAGE}: check the header row ({columns})")


def _iter_rows(reader: Iterator[list[str]], header: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    row_number = 1
    first = True
    blanks: list[tuple[int, dict[str, str]]] = []
    try:
        for fields in reader:
            row_number += 1
            # An empty line holds no cells at all: the real service's parser skips it.
            if not fields:
                continue
            if first and is_instruction_row(fields):
                first = False
                continue
            first = False
            # Short rows leave trailing columns absent (read as blank); cells beyond the header are dropped.
            row = (row_number, dict(zip(header, fields, strict=False)))
            # Blank rows count only when a child follows them: spreadsheets leave ",,,," rows at the end.
            if is_blank(fields):
                blanks.append(row)
                continue
            yield from blanks
            blanks.clear()
            yield row
    except csv.Error as exc:
        raise CohortFileError(
            [RowError(row_number + 1, "", "could not be read as CSV")],
            f"{FORMAT_MESSAGE}: row {row_number + 1} could not be read",
        ) from exc


def read_header_and_rows(text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Read the header now and return it with a lazy iterator of (spreadsheet row number, row) pairs.

    Column names are normalised (stripped, upper-case) in both the header and the row dicts; cells are raw.
    The template's instruction row, empty lines and the blank rows after the last child are skipped; a
    blank row before a child is a row (whose required cells are missing). Raises CohortFileError for a
    bad header at once, and from the iterator for a row that is not valid CSV.
    """
    reader = csv.reader(_iter_lines(text), strict=True)
    try:
        first = next(reader, None)
    except csv.Error as exc:
        raise CohortFileError([RowError(0, "", FORMAT_MESSAGE)]) from exc
    if first is None or not "".join(first).strip():
        raise _empty_header()
    header = [_normalise_column(name) for name in first]
    _check_header(header)
    return header, _iter_rows(reader, header)


def normalise_header(raw: list[str]) -> list[str]:
    """Normalise and check a header row as read_header_and_rows does (for rows that arrive already split).

    Raises CohortFileError when the header is empty, unrecognised, missing a required column or repeats one.
    """
    if not "".join(raw).strip():
        raise _empty_header()
    header = [_normalise_column(name) for name in raw]
    _check_header(header)
    return header
