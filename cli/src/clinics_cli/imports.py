"""`clinics imports`: the rows of a cohort import held for review, side by side, and staff's decision on each."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer

from clinics_cli import output
from clinics_cli.params import By
from clinics_cli.runner import ask, guarded
from contracts.cohort import DecideImportReview, ListImportReviews, ReviewDecision

app = typer.Typer(help="Cohort imports: rows held for review and staff's decisions.", no_args_is_help=True)

FIELDS = {
    "nhs_number": "NHS number",
    "first_name": "first name",
    "last_name": "last name",
    "date_of_birth": "date of birth",
    "postcode": "postcode",
    "school_urn": "school URN",
    "year_group": "year group",
    "parents": "parents",
}
MATCHED_ON = {"nhs_number": "the same NHS number", "details": "3 of name, date of birth and postcode"}


def _parents(parents: list[dict[str, Any]]) -> str:
    return "; ".join(", ".join(str(v) for v in p.values() if v) for p in parents)


def _side_by_side(review: dict[str, Any]) -> None:
    uploaded, existing = review["uploaded"], review["existing"]
    rows = []
    for field, label in FIELDS.items():
        new, old = uploaded.get(field), existing.get(field)
        if field == "parents":
            new, old = _parents(new or []), _parents(old or [])
        differs = field in review["differs"] or (field == "parents" and new != old)
        rows.append({"field": label, "uploaded": new, "existing": old, "differs": "≠" if differs else ""})
    decided = review["decision"]
    state = f"decided: {decided.replace('_', ' ')} by {review['decided_by']}" if decided else "undecided"
    title = (
        f"row {review['row_number']}: matched child {existing['child_id']} on {MATCHED_ON.get(review['matched_on'])}"
        f" ({state})"
    )
    output.table(rows, title=title, columns=["field", "uploaded", "existing", "differs"])


def show_reviews(data: dict[str, Any]) -> None:
    output.say(f"import {data['import_id']}: {data['total']} row(s) held for review, {data['undecided']} undecided")
    for review in data["reviews"]:
        _side_by_side(review)
    if data.get("next_after"):
        output.say(f"next page: --after {data['next_after']}")
    if data["undecided"]:
        output.say(
            f"decide each: clinics imports decide {data['import_id']} ROW --use-upload|--keep-existing|--keep-both"
            " --by NAME"
        )


@app.command("review")
def review(
    import_id: Annotated[uuid.UUID, typer.Argument(help="The import's id (import-cohort prints it).")],
    after: Annotated[int, typer.Option("--after", help="Show the rows after this row number.", min=0)] = 0,
    page_size: Annotated[int, typer.Option("--page-size", min=1, max=500)] = 50,
) -> None:
    """The rows of an import held for review, each upload beside the existing child it matched."""
    ask(ListImportReviews(import_id=import_id, after_row=after, page_size=page_size), show_reviews)


def _decided(data: dict[str, Any]) -> None:
    what = data["decision"].replace("_", " ")
    joined = "; joined the community clinic cohort" if data["joined_clinic"] else ""
    output.say(f"row {data['row_number']} decided ({what}): child {data['child_id']}{joined}")


@app.command("decide")
@guarded
def decide(
    import_id: Annotated[uuid.UUID, typer.Argument(help="The import's id.")],
    row: Annotated[int, typer.Argument(help="The row number held for review.", min=2)],
    by: By,
    use_upload: Annotated[bool, typer.Option("--use-upload", help="The child takes the uploaded details.")] = False,
    keep_existing: Annotated[
        bool, typer.Option("--keep-existing", help="Keep the record; discard the upload.")
    ] = False,
    keep_both: Annotated[bool, typer.Option("--keep-both", help="Two children: add the upload as a new one.")] = False,
) -> None:
    """Decide a held row: use the upload, keep the existing record, or keep both (exactly one)."""
    chosen = [
        decision
        for decision, given in [
            (ReviewDecision.USE_UPLOAD, use_upload),
            (ReviewDecision.KEEP_EXISTING, keep_existing),
            (ReviewDecision.KEEP_BOTH, keep_both),
        ]
        if given
    ]
    if len(chosen) != 1:
        raise typer.BadParameter("give exactly one of --use-upload, --keep-existing, --keep-both")
    command = DecideImportReview(import_id=import_id, row_number=row, decision=chosen[0], decided_by=by)
    ask(command, _decided)
