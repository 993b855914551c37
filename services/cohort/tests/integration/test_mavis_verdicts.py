"""Every real Mavis upload file through the importer (chunks and commit, as the CLI sends them), its
verdict compared row by row with the one the fixtures' README gives (`fixtures/mavis-cohort-import`).

The README says what the real service decides of each file; where it speaks of a file's rows in general
("one error per row"), the rows are spelled out here from the real service's rules (`CohortImportRow`,
`PatientImportRow`, `PatientImport#check_rows_are_unique`, `Import::CSVData`): a blank row between
children is missing every required cell, and every row sharing an NHS number with another is flagged.
"""

from __future__ import annotations

from typing import Any

import pytest
from faststream.rabbit import RabbitBroker

from ..cohort_support import fixture_csv, import_rows, new_team

pytestmark = pytest.mark.integration

REQUIRED = {"CHILD_FIRST_NAME", "CHILD_LAST_NAME", "CHILD_DATE_OF_BIRTH", "CHILD_POSTCODE", "CHILD_SCHOOL_URN"}
NHS = {"CHILD_NHS_NUMBER"}
# invalid_fields.csv: each row blanks or spoils one field of the same child (NHS number 9990000018).
INVALID_FIELDS: dict[int, set[str]] = {
    2: REQUIRED,  # wholly blank, children after it
    3: {"CHILD_SCHOOL_URN"},  # blank
    4: NHS, 5: NHS, 6: NHS, 7: NHS,  # an optional parent field blank: valid, but the NHS number repeats
    8: {"CHILD_FIRST_NAME"}, 9: {"CHILD_LAST_NAME"}, 10: {"CHILD_DATE_OF_BIRTH"},
    11: NHS, 12: NHS,  # an address line or the town blank: valid, the NHS number repeats
    13: {"CHILD_POSTCODE"},
    # 14: no NHS number, nothing else wrong: valid
    15: {"CHILD_SCHOOL_URN"}, 16: {"PARENT_1_EMAIL"}, 17: {"PARENT_1_PHONE"}, 18: {"CHILD_DATE_OF_BIRTH"},
    19: {"CHILD_POSTCODE"}, 20: {"CHILD_NHS_NUMBER"}, 21: {"CHILD_FIRST_NAME"}, 22: {"CHILD_LAST_NAME"},
}  # fmt: skip
VERDICTS: dict[str, dict[str, Any]] = {
    "valid.csv": {"children": 3, "joined": 1},  # the blank row at the end ignored; Mark Doe at 888888
    "valid_minimal.csv": {"children": 1},
    "valid_unknown_school.csv": {"children": 2, "joined": 2},
    "valid_iso_8859_1_encoding.csv": {"children": 16},
    "invalid_fields.csv": {"errors": INVALID_FIELDS},
    "invalid_minimal.csv": {"errors": {2: {"CHILD_DATE_OF_BIRTH"}}},  # exactly one error, on row 2
    "malformed.csv": {"errors": {0: {""}}, "message": "correct format"},  # the file as a whole
}


def _by_row(details: list[dict[str, Any]]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for d in details:
        found.setdefault(d["row"], set()).add(d["column"])
    return found


@pytest.mark.parametrize("name", sorted(VERDICTS))
async def test_each_real_upload_file_gets_the_real_service_s_verdict_row_by_row(
    client: RabbitBroker, name: str
) -> None:
    verdict = VERDICTS[name]
    header, rows = fixture_csv(name)
    _, reply = await import_rows(client, new_team(), header, rows)
    if "errors" in verdict:
        assert reply.error is not None and reply.error.code == "invalid_file", reply
        assert _by_row(reply.error.details) == verdict["errors"]
        if name == "invalid_minimal.csv":
            assert len(reply.error.details) == 1
        assert verdict.get("message", "") in reply.error.message + str(reply.error.details)
    else:
        assert reply.ok, reply.error
        assert reply.data is not None
        assert (reply.data["children_created"], reply.data["needs_review"]) == (verdict["children"], 0)
        assert reply.data["joined_clinic"] == verdict.get("joined", 0)
