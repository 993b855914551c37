"""The rows of a cohort upload that are no child: the template's instruction row and trailing blank rows.

The CLI and the cohort service's own reader agree through these: the CLI leaves trailing blank rows out
of what it sends, and the service skips the instruction row and checks every other row it is sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

__all__ = ["is_blank", "is_instruction_row", "without_trailing_blank_rows"]

# The real service's template has, under its header, a row saying what each column takes: its first
# cell begins "Required" or "Optional", then a comma, full stop, colon or the end of a line.
_INSTRUCTION = re.compile(r"(?:Required|Optional)(?:[,.:]|$)", re.MULTILINE)

Row = TypeVar("Row", bound=tuple[int, Sequence[str]])


def is_blank(cells: Sequence[str]) -> bool:
    """A row with no value in any cell (spreadsheets export them as ",,,,")."""
    return not "".join(cells).strip()


def is_instruction_row(cells: Sequence[str]) -> bool:
    """Whether this row, the first under the header, is the template's instructions rather than a child."""
    return bool(cells) and _INSTRUCTION.match(cells[0].strip()) is not None


def without_trailing_blank_rows(rows: Sequence[Row]) -> list[Row]:
    """The rows up to the last that holds a value: a blank row between two children is kept (it is an
    error), the blank rows a spreadsheet leaves at the end are not."""
    end = len(rows)
    while end and is_blank(rows[end - 1][1]):
        end -= 1
    return list(rows[:end])
