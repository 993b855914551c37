"""Parse and validate cohort-upload CSV files in the Mavis ("Manage vaccinations in schools") format.

`csvfile` reads an upload (encoding, header, rows by column), `fields` checks one field of a row (with the
UK `formats`), `rows` checks a row, a chunk or a whole file; `errors` are what they all report.
"""

from cohort.importer.columns import (
    CHILD_DATE_OF_BIRTH,
    CHILD_FIRST_NAME,
    CHILD_LAST_NAME,
    CHILD_NHS_NUMBER,
    CHILD_POSTCODE,
    CHILD_SCHOOL_URN,
    CHILD_YEAR_GROUP,
    REQUIRED_COLUMNS,
)
from cohort.importer.csvfile import decode_csv, normalise_header, read_header_and_rows
from cohort.importer.errors import CohortFileError, RowError
from cohort.importer.fields import EARLIEST_DATE_OF_BIRTH, MAX_NAME_LENGTH, ParentRow
from cohort.importer.formats import normalise_phone, normalise_postcode
from cohort.importer.rows import CohortRow, ParseResult, parse_cohort_csv, validate_row, validate_rows

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
