"""`clinics consent-responses`: parents' online consent responses, and settling those matched to no child."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer

from clinics_cli import output
from clinics_cli.params import By, Team
from clinics_cli.runner import ask, guarded
from contracts import consent

app = typer.Typer(help="Online consent responses: list, show, match to a child, add the child, archive.")

ResponseId = Annotated[uuid.UUID, typer.Argument(help="The response's id (see `clinics consent-responses list`).")]
COLUMNS = ["response_id", "submitted_at", "state", "child_name", "date_of_birth", "postcode", "parent_name",
           "answers", "needs_triage", "child_id"]  # fmt: skip


def _row(response: dict[str, Any]) -> dict[str, Any]:
    answers = ", ".join(f"{p}: {a}" for p, a in response["answers"].items())
    return {**response, "answers": answers, "needs_triage": "yes" if response["needs_triage"] else ""}


def listed(data: dict[str, Any]) -> None:
    pages = max(1, -(-data["total"] // data["page_size"]))
    title = f"online consent responses of {data['team_ods']}, oldest first: page {data['page']} of {pages}"
    output.table([_row(r) for r in data["responses"]], title=f"{title}, {data['total']} in all", columns=COLUMNS)


def shown(data: dict[str, Any]) -> None:
    form = data["form"]
    summary = {k: v for k, v in data.items() if k not in ("form", "answers") and v is not None}
    output.mapping(summary, title=f"online consent response {data['response_id']}")
    details = {k: v for k, v in form.items() if k != "answers" and v is not None}
    output.mapping(details, title="as the parent gave it")
    for answer in form["answers"]:
        health = answer.pop("health_answers", [])
        output.mapping({k: v for k, v in answer.items() if v not in (None, [], False)}, title=answer["programme"])
        rows = [{"question": h["question"], "answer": "yes" if h["answer"] else "no", "details": h.get("details")}
                for h in health]  # fmt: skip
        if rows:
            output.table(rows, title=f"health questions ({answer['programme']})")


@app.command("list")
@guarded
def list_responses(
    team: Team,
    unmatched: Annotated[bool, typer.Option("--unmatched/--all", help="Only those matched to no child.")] = False,
    page: Annotated[int, typer.Option(min=1)] = 1,
    page_size: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """A team's online consent responses, oldest first (--unmatched: those waiting for staff)."""
    ask(consent.ListConsentResponses(team_ods=team, unmatched_only=unmatched, page=page, page_size=page_size), listed)


@app.command("show")
def show(response_id: ResponseId) -> None:
    """One online response as the parent gave it (health answers included), and what became of it."""
    ask(consent.GetConsentResponse(response_id=response_id), shown)


def _done(data: dict[str, Any]) -> None:
    output.mapping(data, title="online consent response")


@app.command("match")
@guarded
def match(
    response_id: ResponseId,
    child_id: Annotated[uuid.UUID, typer.Argument(help="The child it is about (see `clinics children find`).")],
    by: By,
) -> None:
    """Match an unmatched response to a child of its team: its answers are recorded for the child."""
    ask(consent.MatchConsentResponse(response_id=response_id, child_id=child_id, matched_by=by), _done)


@app.command("create-child")
@guarded
def create_child(response_id: ResponseId, by: By) -> None:
    """No child of the team is the one: add them from the response (it is matched when cohort has added them)."""
    ask(consent.CreateChildFromConsentResponse(response_id=response_id, created_by=by), _done)


@app.command("archive")
@guarded
def archive(
    response_id: ResponseId,
    notes: Annotated[str, typer.Option("--notes", help="Why it is set aside (recorded).")],
    by: By,
) -> None:
    """Set an unmatched response aside, saying why."""
    ask(consent.ArchiveConsentResponse(response_id=response_id, notes=notes, archived_by=by), _done)
