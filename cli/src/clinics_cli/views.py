"""How each reply reads to staff: tables and summaries built from the services' reply data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from clinics_cli import output
from msgkit.clock import readable, readable_iso

View = Callable[[Any], None]


def record(title: str) -> View:
    """A reply shown as one field–value table."""

    def show(data: dict[str, Any]) -> None:
        output.mapping(data, title=title)

    return show


def _dates(dates: list[dict[str, Any]]) -> str:
    days = [(readable_iso(str(d["on"])), d.get("venue_id")) for d in dates]
    return ", ".join(f"{day} at {venue}" if venue else day for day, venue in days)


def session(data: dict[str, Any]) -> None:
    # already_closed answers a close only, and `sent` says it in words.
    shown = {**data, "dates": _dates(data.get("dates") or []) or "none (unscheduled)", "already_closed": None}
    output.mapping({k: v for k, v in shown.items() if v is not None}, title=f"{data.get('kind', '')} session".strip())


def _school(session: dict[str, Any]) -> str:
    urn = session.get("school_urn")
    name = session.get("school_name")
    return f"{name} (URN {urn})" if name else f"school {urn}"


def _from_day(session: dict[str, Any]) -> str | None:
    """When a session not yet completed can be sent (the day after its last date), or None once it can."""
    if session.get("state") == "completed":
        return None
    last = session.get("last_date")
    if not last:
        return "it has no dates yet, so it cannot be completed or sent"
    return f"it can be sent from {readable(date.fromisoformat(last) + timedelta(days=1))}"


def preview(data: dict[str, Any]) -> None:
    session = data.get("session") or {}
    output.say(
        f"Send clinic invitations for {_school(session)} would invite {data['will_invite']} child(ren)"
        f" (session {data['session_id']})"
    )
    if session.get("closed_at"):
        output.say(f"Already sent on {readable_iso(session['closed_at'])}: sending again makes 0 new invitations")
    elif (when := _from_day(session)) is not None:
        output.say(f"The session is not completed: {when}")
    left_out = [
        {"left out because": reason.replace("_", " "), "children": n} for reason, n in data["left_out"].items() if n
    ]
    output.table(left_out, title="left out")


def sent(data: dict[str, Any]) -> None:
    """*Send clinic invitations*: what it did, or that it had been done."""
    when = readable_iso(str(data.get("closed_at")))
    if data.get("already_closed"):
        output.say(
            f"Clinic invitations for {_school(data)} were already sent on {when} by {data.get('closed_by')}:"
            " 0 new invitations"
        )
    else:
        output.say(
            f"Clinic invitations for {_school(data)} sent on {when}: the session's children who still need a"
            " vaccination join the clinic cohort, and their parents are invited the next day"
        )
    session(data)


INVITATION_COLUMNS = ["invitation_id", "academic_year", "programmes", "kind", "trigger", "status", "due_at"]
MESSAGE_COLUMNS = ["kind", "channel", "recipient", "status", "attempts", "sent_at", "completed_at"]


def invitation_status(data: dict[str, Any]) -> None:
    if not data["invitations"] and not data["notifications"]:
        output.say(f"no invitations yet for child {data['child_id']}")
        return
    output.table(
        data["invitations"],
        title=f"invitations of child {data['child_id']}",
        columns=[*INVITATION_COLUMNS, "cancel_reason"],
    )
    output.table(
        data["notifications"],
        title="messages",
        columns=[*MESSAGE_COLUMNS, "last_error", "cancel_reason"],
    )


def consent_status(data: dict[str, Any]) -> None:
    rows = []
    for p in data["programmes"]:
        latest = p["responses"][-1] if p["responses"] else {}
        rows.append(
            {
                "academic_year": p["academic_year"],
                "programme": p["programme"],
                "status": p["status"].replace("_", " ") + (", needs triage" if p.get("needs_triage") else ""),
                "responses": len(p["responses"]),
                "latest": " ".join(filter(None, [latest.get("response"), latest.get("route")])),
                "recorded_by": latest.get("recorded_by"),
                "recorded_at": latest.get("recorded_at"),
            }
        )
    output.table(rows, title=f"consent of child {data['child_id']}")


def consent_request(data: dict[str, Any]) -> None:
    sent = ", ".join(data["programmes"]) or "nothing"
    output.say(f"consent request {data['request_id']} sent for {sent} ({data['academic_year']})")
    skipped = [{"programme": p, "skipped because consent is": s} for p, s in data.get("skipped", {}).items()]
    if skipped:
        output.table(skipped, title="skipped")


def activity(data: dict[str, Any]) -> None:
    rows = [{"when": e["occurred_at"], "what": e["text"]} for e in data["entries"]]
    output.table(rows, title=f"activity log of child {data['child_id']} (times in Europe/London)")


CHILD_COLUMNS = ["child_id", "name", "nhs_number", "date_of_birth", "school_urn"]


def _named(child: dict[str, Any]) -> dict[str, Any]:
    return {**child, "name": f"{child['first_name']} {child['last_name']}"}


PARENT_COLUMNS = ["child", "parent_id", "name", "relationship", "email", "phone", "contactable by"]


def children_found(data: dict[str, Any]) -> None:
    output.table([_named(c) for c in data["children"]], title="children", columns=[*CHILD_COLUMNS, "do_not_contact"])
    # The parent ids `clinics consent record --parent` takes, and how each can be reached.
    parents = [
        {**p, "child": _named(c)["name"], "contactable by": ", ".join(p["contactable_by"]) or "not contactable"}
        for c in data["children"]
        for p in c.get("parents", [])
    ]
    if parents:
        output.table(parents, title="parents", columns=PARENT_COLUMNS)


def clinic_children(data: dict[str, Any]) -> None:
    pages = max(1, -(-data["total"] // data["page_size"]))
    rows = [
        {**_named(c), "consent": c["consent_status"].replace("_", " "), "why not invited": c.get("not_invited_because")}
        for c in data["children"]
    ]
    columns = [*CHILD_COLUMNS, "joined_on", "reason", "invited", "why not invited", "consent", "vaccinated"]
    where = "the page after the cursor" if data.get("after") else f"page {data['page']} of {pages}"
    title = f"clinic children: {where}, {data['total']} in all"
    output.table(rows, title=title, columns=columns)
    if data.get("next_cursor"):
        output.say(f"next page: --after {data['next_cursor']}")


def row_errors(details: list[dict[str, Any]]) -> None:
    output.table(details, title="rows with errors", columns=["row", "column", "message"])


def imported(data: dict[str, Any]) -> None:
    output.mapping(data, title="imported")
    held = data.get("needs_review") or 0
    if held:
        records = "1 record needs" if held == 1 else f"{held} records need"
        output.say(
            f"{records} review: nothing in them is changed or invited until decided"
            f" (clinics imports review {data['import_id']})"
        )
