"""Activity log entries of staff's decisions on import rows held for review, and how staff read them.

`cohort.activity` shows them with its own (`DESCRIBE` is merged into its table of sentences).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts.cohort import ReviewDecision

DECIDED = "import_review_decided"
CREATED = "created_by_import_review"

_FIELD_NAMES = {
    "nhs_number": "NHS number",
    "first_name": "first name",
    "last_name": "last name",
    "date_of_birth": "date of birth",
    "postcode": "postcode",
    "school_urn": "school",
    "year_group": "year group",
}


def decided_details(
    decision: ReviewDecision, decided_by: str, *, row_number: int, changed: list[str]
) -> dict[str, Any]:
    return {"decision": decision.value, "decided_by": decided_by, "row_number": row_number, "changed": changed}


def _decided(d: dict[str, Any]) -> str:
    fields = ", ".join(_FIELD_NAMES.get(f, f) for f in d.get("changed", []))
    what = {
        ReviewDecision.USE_UPLOAD: f"the uploaded details were used ({fields or 'parents'})",
        ReviewDecision.KEEP_EXISTING: "this record was kept and the upload's details discarded",
        ReviewDecision.KEEP_BOTH: "the upload was kept as another child",
    }.get(d["decision"], d["decision"])
    return f"Cohort import row {d['row_number']} reviewed: {what}, decided by {d['decided_by']}"


DESCRIBE: dict[str, Callable[[dict[str, Any]], str]] = {
    DECIDED: _decided,
    CREATED: lambda d: (
        f"Added from cohort import row {d['row_number']}, kept beside child {d['kept_beside']},"
        f" decided by {d['decided_by']}"
    ),
}
