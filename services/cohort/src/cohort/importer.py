"""Parse and validate cohort-upload CSV files in the Mavis ("Manage vaccinations in schools") format."""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from contracts.nhs_number import is_valid_nhs_number, normalise_nhs_number

__all__ = [
    "CHILD_DATE_OF_BIRTH",
    "CHILD_FIRST_NAME",
    "CHILD_LAST_NAME",
    "CHILD_NHS_NUMBER",
    "CHILD_POSTCODE",
    "CHILD_SCHOOL_URN",
    "CHILD_YEAR_GROUP",
    "EARLIEST_DATE_OF_BIRTH",
    "MAX_NAME_LENGTH",
    "REQUIRED_COLUMNS",
    "URN_HOME_EDUCATED",
    "URN_UNKNOWN",
    "CohortFileError",
    "CohortRow",
    "ParentRow",
    "ParseResult",
    "RowError",
    "decode_csv",
    "normalise_header",
    "normalise_phone",
    "normalise_postcode",
    "parse_cohort_csv",
    "read_header_and_rows",
    "validate_row",
    "validate_rows",
]

URN_UNKNOWN = "888888"
URN_HOME_EDUCATED = "999999"

CHILD_FIRST_NAME = "CHILD_FIRST_NAME"
CHILD_LAST_NAME = "CHILD_LAST_NAME"
CHILD_DATE_OF_BIRTH = "CHILD_DATE_OF_BIRTH"
CHILD_POSTCODE = "CHILD_POSTCODE"
CHILD_SCHOOL_URN = "CHILD_SCHOOL_URN"
CHILD_NHS_NUMBER = "CHILD_NHS_NUMBER"
CHILD_YEAR_GROUP = "CHILD_YEAR_GROUP"

REQUIRED_COLUMNS: tuple[str, ...] = (
    CHILD_FIRST_NAME,
    CHILD_LAST_NAME,
    CHILD_DATE_OF_BIRTH,
    CHILD_POSTCODE,
    CHILD_SCHOOL_URN,
)

# (name, relationship, email, phone) column names for parent 1 and parent 2.
_PARENT_COLUMNS: tuple[tuple[str, str, str, str], ...] = tuple(
    (f"PARENT_{n}_NAME", f"PARENT_{n}_RELATIONSHIP", f"PARENT_{n}_EMAIL", f"PARENT_{n}_PHONE") for n in (1, 2)
)

# A duplicate of a column we read would make the row ambiguous; duplicates of ignored columns do not matter.
_READ_COLUMNS: frozenset[str] = frozenset(
    (*REQUIRED_COLUMNS, CHILD_NHS_NUMBER, CHILD_YEAR_GROUP, *(c for cols in _PARENT_COLUMNS for c in cols))
)

MAX_NAME_LENGTH = 300
EARLIEST_DATE_OF_BIRTH = date(2000, 1, 1)

_FORMAT_MESSAGE = "The file is not a CSV file in the correct format for a cohort upload"

# re.ASCII so that \d never accepts non-ASCII digits that int() would silently convert.
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
_URN = re.compile(r"\d{6}", re.ASCII)
_YEAR_GROUP = re.compile(r"-?\d{1,2}", re.ASCII)
# The real service's person-name characters: ASCII letters, digits and underscore, Latin-1 and Latin
# Extended-A letters, space, apostrophes (plain, grave, U+2019, U+02BC), full stop and hyphen.
_PERSON_NAME = re.compile("[A-Za-z0-9_\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f '`\u2019\u02bc.-]+")
# Other apostrophes are stored as a plain one so that both spellings of a name match later.
_OTHER_APOSTROPHES = re.compile("[`\u2019\u02bc]")
# Digit positions also take I and O, which people type for 1 and 0 (the real service accepts "st1 oqs").
_POSTCODE = re.compile(r"([A-Z]{1,2})([0-9IO])([0-9A-Z]?)([0-9IO])([A-Z]{2})", re.ASCII)
_POSTCODE_DIGITS = {"I": "1", "O": "0"}
_WHITESPACE = re.compile(r"\s+")
_PHONE_PUNCTUATION = re.compile(r"[\s().\-]+")
_PHONE_NATIONAL_LENGTHS: dict[str, tuple[int, ...]] = {
    "1": (9, 10),
    "2": (10,),
    "3": (10,),
    "5": (9, 10),
    "7": (10,),
    "8": (9, 10),
}
_EMAIL = re.compile(
    r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})",
    re.ASCII,
)
# Lines with their endings kept, so quoted fields spanning lines still parse; \r alone counts as an ending.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


@dataclass(frozen=True, slots=True)
class ParentRow:
    """A parent or carer named on a cohort row."""

    name: str | None
    relationship: str | None
    email: str | None
    phone: str | None


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
class RowError:
    """One problem in a cohort upload.

    ``row`` is numbered as in a spreadsheet (header = 1); 0 means the whole file. ``message`` reads after
    the column name ("CHILD_POSTCODE should be a valid UK postcode") and never repeats the cell's value,
    so errors can be shown or stored without copying personal data.
    """

    row: int
    column: str
    message: str


class CohortFileError(Exception):
    """The upload as a whole is not a cohort CSV file (unreadable, or required columns missing)."""

    def __init__(self, errors: list[RowError], message: str = _FORMAT_MESSAGE) -> None:
        super().__init__(message)
        self.errors = errors


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Outcome of parsing a whole cohort file: the valid rows and every error of the invalid ones."""

    rows: list[CohortRow]
    errors: list[RowError]

    @property
    def ok(self) -> bool:
        """True when no row had an error, so the upload can be accepted as a whole."""
        return not self.errors


def decode_csv(data: bytes) -> str:
    """Decode an uploaded file as UTF-8 (BOM optional), falling back to ISO-8859-1 as the real service does."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Every byte sequence is valid ISO-8859-1, so this cannot fail.
        return data.decode("iso-8859-1")


def normalise_postcode(raw: str) -> str | None:
    """Return ``raw`` as an upper-case UK postcode such as "SW1A 1AA", or None if it is not one."""
    compact = _WHITESPACE.sub("", raw).upper()
    if compact == "GIR0AA":
        return "GIR 0AA"
    match = _POSTCODE.fullmatch(compact)
    if match is None:
        return None
    area, district, district_suffix, sector, unit = match.groups()
    district = _POSTCODE_DIGITS.get(district, district)
    sector = _POSTCODE_DIGITS.get(sector, sector)
    return f"{area}{district}{district_suffix} {sector}{unit}"


def normalise_phone(raw: str) -> str | None:
    """Return ``raw`` as a UK national phone number such as "07412345678", or None if it is not one."""
    number = _PHONE_PUNCTUATION.sub("", raw)
    if number.startswith("+"):
        if not number.startswith("+44"):
            return None
        national = number[3:]
    elif number.startswith("0044"):
        national = number[4:]
    elif number.startswith("44") and len(number) >= 11:
        national = number[2:]
    elif number.startswith("0"):
        national = number[1:]
    else:
        # Spreadsheets often drop the leading zero of a number stored as a number.
        national = number
    if national.startswith("0"):
        # "+44 (0)7700 900982" keeps a trunk zero after the country code.
        national = national[1:]
    if not national.isascii() or not national.isdigit():
        return None
    # Mobiles (7) and 02/03 numbers have ten national digits; some 01 areas and 05/08 numbers have nine.
    allowed_lengths = _PHONE_NATIONAL_LENGTHS.get(national[0])
    if allowed_lengths is None or len(national) not in allowed_lengths:
        return None
    return "0" + national


def _is_valid_email(email: str) -> bool:
    if len(email) > 320 or ".." in email:
        return False
    if _EMAIL.fullmatch(email) is None:
        return False
    return len(email.rpartition("@")[2]) <= 253


def _parse_date(value: str) -> date | None:
    match = _ISO_DATE.fullmatch(value)
    if match is not None:
        year, month, day = match.groups()
    else:
        match = _UK_DATE.fullmatch(value)
        if match is None:
            return None
        day, month, year = match.groups()
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _normalise_column(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().upper()


def _iter_lines(text: str) -> Iterator[str]:
    for match in _LINE.finditer(text):
        yield match.group()


def _check_header(header: list[str]) -> None:
    present = set(header)
    if present.isdisjoint(REQUIRED_COLUMNS):
        # Nothing we recognise: this is some other file, so column-by-column errors would only confuse.
        raise CohortFileError([RowError(0, "", _FORMAT_MESSAGE)])
    errors = [
        RowError(0, column, "is missing from the header row") for column in REQUIRED_COLUMNS if column not in present
    ]
    if len(present) != len(header):
        seen: set[str] = set()
        for column in header:
            if column in seen and column in _READ_COLUMNS:
                errors.append(RowError(0, column, "appears more than once in the header row"))
            seen.add(column)
    if errors:
        columns = ", ".join(error.column for error in errors)
        raise CohortFileError(errors, f"{_FORMAT_MESSAGE}: check the header row ({columns})")


def _iter_rows(reader: Iterator[list[str]], header: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    row_number = 1
    try:
        for fields in reader:
            row_number += 1
            # Spreadsheets export trailing empty rows as ",,,,"; the real service ignores them.
            if not "".join(fields).strip():
                continue
            # Short rows leave trailing columns absent (read as blank); cells beyond the header are dropped.
            yield row_number, dict(zip(header, fields, strict=False))
    except csv.Error as exc:
        raise CohortFileError(
            [RowError(row_number + 1, "", "could not be read as CSV")],
            f"{_FORMAT_MESSAGE}: row {row_number + 1} could not be read",
        ) from exc


def read_header_and_rows(text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Read the header now and return it with a lazy iterator of (spreadsheet row number, row) pairs.

    Column names are normalised (stripped, upper-case) in both the header and the row dicts; cells are raw.
    Wholly blank rows are skipped. Raises CohortFileError for a bad header at once, and from the iterator
    for a row that is not valid CSV.
    """
    reader = csv.reader(_iter_lines(text), strict=True)
    try:
        first = next(reader, None)
    except csv.Error as exc:
        raise CohortFileError([RowError(0, "", _FORMAT_MESSAGE)]) from exc
    if first is None or not "".join(first).strip():
        raise CohortFileError([RowError(0, "", _FORMAT_MESSAGE)], f"{_FORMAT_MESSAGE}: the header row is empty")
    header = [_normalise_column(name) for name in first]
    _check_header(header)
    return header, _iter_rows(reader, header)


def normalise_header(raw: list[str]) -> list[str]:
    """Normalise and check a header row as read_header_and_rows does (for rows that arrive already split).

    Raises CohortFileError when the header is empty, unrecognised, missing a required column or repeats one.
    """
    if not "".join(raw).strip():
        raise CohortFileError([RowError(0, "", _FORMAT_MESSAGE)], f"{_FORMAT_MESSAGE}: the header row is empty")
    header = [_normalise_column(name) for name in raw]
    _check_header(header)
    return header


def _validate_name(row_number: int, column: str, value: str, errors: list[RowError], *, required: bool) -> str | None:
    if not value:
        if required:
            errors.append(RowError(row_number, column, "is required but missing"))
        return None
    if len(value) > MAX_NAME_LENGTH:
        errors.append(RowError(row_number, column, f"must be at most {MAX_NAME_LENGTH} characters"))
        return None
    if _PERSON_NAME.fullmatch(value) is None:
        errors.append(RowError(row_number, column, "includes invalid character(s)"))
        return None
    if value.isascii() and "`" not in value:
        return value
    return _OTHER_APOSTROPHES.sub("'", value)


def _validate_parents(row_number: int, raw: dict[str, str], errors: list[RowError]) -> tuple[ParentRow, ...]:
    parents: list[ParentRow] = []
    for name_column, relationship_column, email_column, phone_column in _PARENT_COLUMNS:
        raw_name = raw.get(name_column, "").strip()
        name = _validate_name(row_number, name_column, raw_name, errors, required=False)
        relationship = raw.get(relationship_column, "").strip() or None
        if relationship is not None and len(relationship) > MAX_NAME_LENGTH:
            # Unchecked, a megabyte cell would travel in every ChildrenUpserted that carries the child.
            errors.append(RowError(row_number, relationship_column, f"must be at most {MAX_NAME_LENGTH} characters"))
            relationship = None
        raw_email = raw.get(email_column, "").strip()
        raw_phone = raw.get(phone_column, "").strip()

        email: str | None = None
        if raw_email:
            email = raw_email.lower()
            if not _is_valid_email(email):
                errors.append(
                    RowError(row_number, email_column, "should be a valid email address, like j.doe@example.com")
                )
        phone: str | None = None
        if raw_phone:
            phone = normalise_phone(raw_phone)
            if phone is None:
                errors.append(
                    RowError(
                        row_number, phone_column, "should be a valid UK phone number, like 07700 900982 or 01632 960001"
                    )
                )

        # Judge presence on the raw cells: an invalid email still means the parent exists.
        if raw_name or raw_email or raw_phone:
            parents.append(ParentRow(name=name, relationship=relationship, email=email, phone=phone))
        elif relationship is not None:
            errors.append(
                RowError(row_number, relationship_column, "must be blank when the parent has no name, email or phone")
            )
    return tuple(parents)


def validate_row(
    row_number: int,
    raw: dict[str, str],
    *,
    known_school_urns: Collection[str] | None = None,
    today: date | None = None,
) -> CohortRow | list[RowError]:
    """Validate one row (keys as from read_header_and_rows) and return it normalised, or all its errors.

    With ``known_school_urns`` None any 6-digit URN is accepted; otherwise it must be one of them (888888
    and 999999 are always accepted). ``today`` bounds the date of birth; it defaults to the current date.
    """
    errors: list[RowError] = []

    first_name = _validate_name(
        row_number, CHILD_FIRST_NAME, raw.get(CHILD_FIRST_NAME, "").strip(), errors, required=True
    )
    last_name = _validate_name(row_number, CHILD_LAST_NAME, raw.get(CHILD_LAST_NAME, "").strip(), errors, required=True)

    date_of_birth: date | None = None
    raw_dob = raw.get(CHILD_DATE_OF_BIRTH, "").strip()
    if not raw_dob:
        errors.append(RowError(row_number, CHILD_DATE_OF_BIRTH, "is required but missing"))
    else:
        date_of_birth = _parse_date(raw_dob)
        if date_of_birth is None:
            errors.append(
                RowError(row_number, CHILD_DATE_OF_BIRTH, "should be a real date formatted as YYYY-MM-DD or DD/MM/YYYY")
            )
        elif date_of_birth < EARLIEST_DATE_OF_BIRTH:
            errors.append(RowError(row_number, CHILD_DATE_OF_BIRTH, "must be on or after 1 January 2000"))
            date_of_birth = None
        elif date_of_birth > (today if today is not None else date.today()):
            errors.append(RowError(row_number, CHILD_DATE_OF_BIRTH, "must not be in the future"))
            date_of_birth = None

    postcode: str | None = None
    raw_postcode = raw.get(CHILD_POSTCODE, "").strip()
    if not raw_postcode:
        errors.append(RowError(row_number, CHILD_POSTCODE, "is required but missing"))
    else:
        postcode = normalise_postcode(raw_postcode)
        if postcode is None:
            errors.append(RowError(row_number, CHILD_POSTCODE, "should be a valid UK postcode, like SW1A 1AA"))

    school_urn: str | None = raw.get(CHILD_SCHOOL_URN, "").strip()
    if not school_urn:
        errors.append(RowError(row_number, CHILD_SCHOOL_URN, "is required but missing"))
        school_urn = None
    elif school_urn in (URN_UNKNOWN, URN_HOME_EDUCATED):
        pass
    elif _URN.fullmatch(school_urn) is None:
        errors.append(
            RowError(
                row_number,
                CHILD_SCHOOL_URN,
                f"should be a 6-digit school URN, {URN_UNKNOWN} (school unknown)"
                f" or {URN_HOME_EDUCATED} (home-educated)",
            )
        )
        school_urn = None
    elif known_school_urns is not None and school_urn not in known_school_urns:
        errors.append(RowError(row_number, CHILD_SCHOOL_URN, "is not a school of this team"))
        school_urn = None

    nhs_number = normalise_nhs_number(raw.get(CHILD_NHS_NUMBER, "")) or None
    if nhs_number is not None and not is_valid_nhs_number(nhs_number):
        errors.append(RowError(row_number, CHILD_NHS_NUMBER, "should be a valid NHS number with 10 digits"))

    year_group: int | None = None
    raw_year_group = raw.get(CHILD_YEAR_GROUP, "").strip()
    if raw_year_group:
        if _YEAR_GROUP.fullmatch(raw_year_group) is None:
            errors.append(RowError(row_number, CHILD_YEAR_GROUP, "should be a whole number, like 9"))
        else:
            year_group = int(raw_year_group)

    parents = _validate_parents(row_number, raw, errors)

    if (
        errors
        or first_name is None
        or last_name is None
        or date_of_birth is None
        or postcode is None
        or school_urn is None
    ):
        return errors
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


def parse_cohort_csv(
    data: bytes,
    *,
    known_school_urns: Collection[str] | None = None,
    today: date | None = None,
) -> ParseResult:
    """Decode, parse and validate a whole cohort upload; raises CohortFileError if it is not of this format."""
    _, rows = read_header_and_rows(decode_csv(data))
    # A set makes the per-row membership test O(1) whatever collection the caller passed.
    urns = frozenset(known_school_urns) if known_school_urns is not None else None
    on_date = today if today is not None else date.today()
    valid: list[CohortRow] = []
    errors: list[RowError] = []
    for row_number, raw in rows:
        result = validate_row(row_number, raw, known_school_urns=urns, today=on_date)
        if isinstance(result, CohortRow):
            valid.append(result)
        else:
            errors.extend(result)
    return ParseResult(rows=valid, errors=errors)


def validate_rows(
    raw_header: list[str],
    rows: Iterable[tuple[int, list[str]]],
    *,
    known_school_urns: Collection[str] | None = None,
    today: date | None = None,
) -> ParseResult:
    """Validate rows that arrive already split into cells (a chunk of an upload), with the raw header.

    A bad header makes every row uninterpretable, so only the header's errors (row 0) are returned then.
    Wholly blank rows are skipped, as in parse_cohort_csv.
    """
    try:
        header = normalise_header(raw_header)
    except CohortFileError as exc:
        return ParseResult(rows=[], errors=exc.errors)
    urns = frozenset(known_school_urns) if known_school_urns is not None else None
    on_date = today if today is not None else date.today()
    valid: list[CohortRow] = []
    errors: list[RowError] = []
    for row_number, cells in rows:
        if not "".join(cells).strip():
            continue
        result = validate_row(row_number, dict(zip(header, cells, strict=False)), known_school_urns=urns, today=on_date)
        if isinstance(result, CohortRow):
            valid.append(result)
        else:
            errors.extend(result)
    return ParseResult(rows=valid, errors=errors)
