"""Property tests of the cohort CSV importer: every bad cell is an error naming its row and column.

Rows go through `cohort.importer` exactly as the service's ImportCohortChunk handler and the whole-file
parser use it. Whatever the cells hold (impossible NHS numbers and dates, junk postcodes, megabyte
cells, control characters, another encoding), the result is a ParseResult or a CohortFileError with a
readable message, never another exception, and no error message repeats the cell's (personal) value.
"""

from __future__ import annotations

import csv
import io
import string
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cohort.importer import (
    CohortFileError,
    ParseResult,
    RowError,
    decode_csv,
    normalise_postcode,
    parse_cohort_csv,
    validate_rows,
)

pytestmark = pytest.mark.unit

TODAY = date(2026, 6, 1)
HEADER = [
    "CHILD_FIRST_NAME", "CHILD_LAST_NAME", "CHILD_DATE_OF_BIRTH", "CHILD_NHS_NUMBER", "CHILD_SCHOOL_URN",
    "CHILD_POSTCODE", "CHILD_YEAR_GROUP", "PARENT_1_NAME", "PARENT_1_RELATIONSHIP", "PARENT_1_EMAIL",
    "PARENT_1_PHONE", "PARENT_2_NAME", "PARENT_2_RELATIONSHIP", "PARENT_2_EMAIL", "PARENT_2_PHONE",
]  # fmt: skip
GOOD = {
    "CHILD_FIRST_NAME": "Jennifer",
    "CHILD_LAST_NAME": "Clarke",
    "CHILD_DATE_OF_BIRTH": "2015-03-14",
    "CHILD_NHS_NUMBER": "9434765919",
    "CHILD_SCHOOL_URN": "999999",
    "CHILD_POSTCODE": "SW1A 1AA",
    "CHILD_YEAR_GROUP": "5",
    "PARENT_1_NAME": "Pat Clarke",
    "PARENT_1_RELATIONSHIP": "Mother",
    "PARENT_1_EMAIL": "pat@example.com",
    "PARENT_1_PHONE": "07700 900123",
    "PARENT_2_NAME": "",
    "PARENT_2_RELATIONSHIP": "",
    "PARENT_2_EMAIL": "",
    "PARENT_2_PHONE": "",
}
HUGE = 200_000
# Example values the importer's messages quote ("like SW1A 1AA"): not the cell's value.
MESSAGE_EXAMPLES = "SW1A 1AA j.doe@example.com 07700 900982 01632 960001 888888 999999 YYYY-MM-DD DD/MM/YYYY"
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_WEIGHTS = range(10, 1, -1)


def _check_digit(nine: str) -> int:
    check = 11 - sum(int(d) * w for d, w in zip(nine, _WEIGHTS, strict=True)) % 11
    return 0 if check == 11 else check


def cells(**overrides: str) -> list[str]:
    row = {**GOOD, **overrides}
    return [row[column] for column in HEADER]


def check(rows: list[list[str]], *, first_row: int = 2) -> ParseResult:
    """Validate rows as the service does; any exception other than the documented ones fails the test."""
    result = validate_rows(HEADER, list(enumerate(rows, start=first_row)), today=TODAY)
    assert isinstance(result, ParseResult)
    return result


def assert_error_at(result: ParseResult, row: int, column: str, value: str) -> RowError:
    hits = [e for e in result.errors if e.row == row and e.column == column]
    assert hits, f"no error for row {row} column {column}: {result.errors}"
    for error in result.errors:
        assert error.message and len(error.message) < 300, error
        if len(value.strip()) >= 4 and value.strip() not in MESSAGE_EXAMPLES:
            assert value.strip() not in error.message, "an error message repeats the cell's value"
    return hits[0]


def test_the_good_row_is_valid() -> None:
    result = check([cells()])
    assert result.ok and len(result.rows) == 1


# --- NHS numbers -------------------------------------------------------------------------------


@st.composite
def invalid_nhs_numbers(draw: st.DrawFn) -> str:
    nine = draw(st.text(string.digits, min_size=9, max_size=9))
    right = _check_digit(nine)
    kind = draw(st.sampled_from(["wrong check digit", "wrong length", "letters", "non-ascii digits", "symbols"]))
    if kind == "wrong check digit":
        wrong = draw(st.integers(0, 9).filter(lambda d: d != right))
        return nine + str(wrong)
    if kind == "wrong length":
        return draw(st.text(string.digits, min_size=1, max_size=30).filter(lambda s: len(s) != 10))
    if kind == "letters":
        return nine[:5] + draw(st.text(string.ascii_letters, min_size=1, max_size=5)) + nine[5:]
    if kind == "non-ascii digits":
        return "".join(chr(0x0660 + int(d)) for d in nine) + "0"  # Arabic-Indic digits
    return nine[:3] + draw(st.sampled_from(["-", "/", ".", "+", "#"])) + nine[3:]


@FAST
@given(nhs=invalid_nhs_numbers(), row=st.integers(2, 100_000))
def test_an_invalid_nhs_number_is_an_error_on_its_row_and_column(nhs: str, row: int) -> None:
    result = check([cells(CHILD_NHS_NUMBER=nhs)], first_row=row)
    assert_error_at(result, row, "CHILD_NHS_NUMBER", nhs)
    assert not result.rows


# --- dates -------------------------------------------------------------------------------------


@st.composite
def invalid_dates(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["impossible", "before 2000", "future", "format", "text"]))
    if kind == "impossible":
        year = draw(st.integers(2000, 2025))
        month, day = draw(st.sampled_from([(2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31), (13, 1), (0, 5)]))
        return draw(st.sampled_from([f"{year}-{month:02d}-{day:02d}", f"{day:02d}/{month:02d}/{year}"]))
    if kind == "before 2000":
        born = draw(st.dates(date(1900, 1, 1), date(1999, 12, 31)))
        return born.isoformat()
    if kind == "future":
        return draw(st.dates(TODAY + timedelta(days=1), date(2999, 12, 31))).strftime("%d/%m/%Y")
    if kind == "format":
        born = draw(st.dates(date(2005, 1, 1), date(2020, 12, 31)))
        return draw(st.sampled_from([born.strftime("%Y/%m/%d"), born.strftime("%d.%m.%Y"), born.strftime("%d %B %Y")]))
    return draw(st.text(min_size=1, max_size=40).filter(lambda s: s.strip() and not s.strip()[0].isdigit()))


@FAST
@given(born=invalid_dates(), row=st.integers(2, 100_000))
def test_an_invalid_date_of_birth_is_an_error_on_its_row_and_column(born: str, row: int) -> None:
    result = check([cells(CHILD_DATE_OF_BIRTH=born)], first_row=row)
    assert_error_at(result, row, "CHILD_DATE_OF_BIRTH", born)
    assert not result.rows


# --- postcodes ---------------------------------------------------------------------------------


@FAST
@given(postcode=st.text(min_size=1, max_size=30), row=st.integers(2, 100_000))
def test_a_postcode_is_either_normalised_or_an_error_on_its_row_and_column(postcode: str, row: int) -> None:
    assume(postcode.strip())
    result = check([cells(CHILD_POSTCODE=postcode)], first_row=row)
    if normalise_postcode(postcode.strip()) is None:
        assert_error_at(result, row, "CHILD_POSTCODE", postcode)
        assert not result.rows
    else:
        assert [r.postcode for r in result.rows] == [normalise_postcode(postcode.strip())]


@FAST
@given(postcode=st.sampled_from(["12345", "SW1A", "SW1A 1AAA", "ZZ99 9ZZZ", "1AA 1AA", "SW1A-1AA!", "Q1 1QQ1"]))
def test_a_malformed_postcode_is_refused(postcode: str) -> None:
    assert_error_at(check([cells(CHILD_POSTCODE=postcode)]), 2, "CHILD_POSTCODE", postcode)


# --- huge cells and control characters -----------------------------------------------------------

VALIDATED = [
    c for c in HEADER if c not in ("PARENT_2_NAME", "PARENT_2_RELATIONSHIP", "PARENT_2_EMAIL", "PARENT_2_PHONE")
]


@settings(max_examples=len(VALIDATED) * 2, deadline=None)
@given(column=st.sampled_from(VALIDATED), filler=st.sampled_from(["x", "7", "é", " a"]))
def test_a_huge_cell_is_an_error_on_its_row_and_column(column: str, filler: str) -> None:
    value = filler * HUGE
    result = check([cells(**{column: value})], first_row=17)
    assert_error_at(result, 17, column, value)
    assert not result.rows


@FAST
@given(column=st.sampled_from(HEADER[:6]), junk=st.text(alphabet=st.characters(categories=["Cc", "Cs", "Co", "So"])))
def test_control_and_symbol_characters_are_an_error_or_harmless(column: str, junk: str) -> None:
    assume(junk.strip())
    result = check([cells(**{column: GOOD[column] + junk})])
    assert result.errors or result.rows
    for error in result.errors:
        assert error.row == 2 and error.column, error


# --- whole rows and files ------------------------------------------------------------------------


@FAST
@given(rows=st.lists(st.lists(st.text(max_size=40), max_size=20), min_size=1, max_size=20))
def test_any_cells_give_row_errors_never_an_exception(rows: list[list[str]]) -> None:
    result = check(rows)
    numbered = range(2, 2 + len(rows))
    for error in result.errors:
        assert error.row in numbered and error.column in HEADER, error
    assert len(result.rows) + len({e.row for e in result.errors}) <= len(rows)


@FAST
@given(bad_at=st.integers(0, 49), bad=invalid_nhs_numbers())
def test_one_bad_row_among_good_ones_is_reported_by_its_own_number(bad_at: int, bad: str) -> None:
    rows = [cells() for _ in range(50)]
    rows[bad_at] = cells(CHILD_NHS_NUMBER=bad)
    result = check(rows)
    assert {(e.row, e.column) for e in result.errors} == {(bad_at + 2, "CHILD_NHS_NUMBER")}


def _csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def _parse_or_file_error(data: bytes) -> ParseResult | CohortFileError:
    try:
        return parse_cohort_csv(data, today=TODAY)
    except CohortFileError as exc:
        return exc


@FAST
@given(
    data=st.one_of(
        st.binary(max_size=2000),
        st.lists(st.sampled_from([*HEADER, ",", "\n", '"', "\x00"])).map(lambda parts: ",".join(parts).encode()),
    )
)
def test_any_bytes_are_a_parse_result_or_a_file_error(data: bytes) -> None:
    outcome = _parse_or_file_error(data)
    if isinstance(outcome, CohortFileError):
        assert str(outcome).startswith("The file is not a CSV file"), outcome
        assert outcome.errors
    else:
        assert isinstance(outcome, ParseResult)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "iso-8859-1", "cp1252"])
def test_latin_names_read_the_same_in_every_accepted_encoding(encoding: str) -> None:
    data = _csv_bytes([cells(CHILD_FIRST_NAME="Zoë", CHILD_LAST_NAME="Brontë")], encoding)
    result = parse_cohort_csv(data, today=TODAY)
    assert result.ok, result.errors
    assert (result.rows[0].first_name, result.rows[0].last_name) == ("Zoë", "Brontë")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "cp500"])
def test_a_file_in_another_encoding_is_refused_as_a_whole(encoding: str) -> None:
    data = _csv_bytes([cells()], encoding)
    with pytest.raises(CohortFileError) as caught:
        parse_cohort_csv(data, today=TODAY)
    assert "not a CSV file in the correct format" in str(caught.value)


@FAST
@given(text=st.text(max_size=300))
def test_decoding_never_fails(text: str) -> None:
    for encoding in ("utf-8", "utf-16", "cp1252"):
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            continue
        assert isinstance(decode_csv(data), str)
