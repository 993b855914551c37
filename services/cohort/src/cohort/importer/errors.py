"""What a cohort upload's checks report: an error of one row and column, or of the file as a whole."""

from __future__ import annotations

from dataclasses import dataclass

FORMAT_MESSAGE = "The file is not a CSV file in the correct format for a cohort upload"


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

    def __init__(self, errors: list[RowError], message: str = FORMAT_MESSAGE) -> None:
        super().__init__(message)
        self.errors = errors
