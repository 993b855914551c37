"""The columns of a cohort upload that the importer reads (any others are ignored)."""

from __future__ import annotations

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

ParentColumns = tuple[str, str, str, str]
# (name, relationship, email, phone) column names for parent 1 and parent 2.
PARENT_COLUMNS: tuple[ParentColumns, ...] = tuple(
    (f"PARENT_{n}_NAME", f"PARENT_{n}_RELATIONSHIP", f"PARENT_{n}_EMAIL", f"PARENT_{n}_PHONE") for n in (1, 2)
)

# A duplicate of a column we read would make the row ambiguous; duplicates of ignored columns do not matter.
READ_COLUMNS: frozenset[str] = frozenset(
    (*REQUIRED_COLUMNS, CHILD_NHS_NUMBER, CHILD_YEAR_GROUP, *(c for cols in PARENT_COLUMNS for c in cols))
)
