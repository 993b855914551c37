"""Timing invitations from the local copies of teams and clinic dates, and telling cohort (InvitationsScheduled).

New invitations are timed as they are invited (`schedule`); every unsent invitation of a team again when
its dates or settings change (`retime`, set-wise).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from contracts.common import MAX_BATCH
from contracts.envelope import Message
from contracts.notify import InvitationsScheduled
from msgkit.outbox import OutboxRow, spliced_row
from notify.domain.invitations import Invitation, due_time, schedule_all
from notify.domain.recipients import default_team
from notify.persistence.uow import Due, NotifyUnitOfWork


def tracing(cause: Message | None) -> dict[str, Any]:
    return cause.caused_by(cause) if cause is not None else {}


async def schedule(uow: NotifyUnitOfWork, items: Sequence[Invitation], now: datetime) -> list[Invitation]:
    """Set each invitation's due time from the team's settings and clinic dates; returns those that changed."""
    if not items:
        return []
    teams = await uow.copies.teams(i.team_ods for i in items)
    sessions = await uow.copies.clinic_sessions(i.team_ods for i in items)
    return schedule_all(items, teams=teams, sessions=sessions, now=now)


def _json_time(at: datetime | None) -> str | None:
    """UTC as pydantic writes it ("...Z"), so spliced and model-built messages read the same."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at is not None else None


def scheduled_rows(items: Sequence[Invitation], cause: Message | None) -> list[OutboxRow]:
    """InvitationsScheduled outbox rows, a thousand invitations each, spliced from plain values.

    Validating a thousand entries into models and serialising them again cost notify more than the SQL of
    the invitations themselves; each entry follows ScheduledInvitation field for field (a unit test reads
    the rows back through the model).
    """
    rows = []
    for start in range(0, len(items), MAX_BATCH):
        entries = [
            {
                "invitation_id": i.id,
                "child_id": i.child_id,
                "team_ods": i.team_ods,
                "programmes": list(i.programmes),
                "academic_year": i.academic_year,
                "kind": i.kind,
                "due_at": _json_time(i.due_at),
            }
            for i in items[start : start + MAX_BATCH]
        ]
        items_json = json.dumps(entries, separators=(",", ":"))
        rows.append(spliced_row(InvitationsScheduled, "invitations", items_json, tracing=tracing(cause)))
    return rows


def publish_scheduled(uow: NotifyUnitOfWork, items: Sequence[Invitation], cause: Message | None) -> None:
    uow.publish(*scheduled_rows(items, cause))


async def retime(
    uow: NotifyUnitOfWork, now: datetime, *, team_ods: str, year: int | None, cause: Message | None
) -> int:
    """Re-time every unsent invitation of a team (and year) from the current dates and settings, set-wise.

    The due time depends on the team, its clinic dates and, per invitation, only its year, programmes,
    trigger and request time: each distinct combination is timed once here (by `due_time`, as new
    invitations are), and PostgreSQL applies the result to every row of it in one statement. Rows
    a dispatcher holds are waited for (see the repository), so each is re-timed or sent, never both.
    Returns how many changed.
    """
    await uow.invitations.lock_team_retime(team_ods)
    keys = await uow.invitations.unsent_keys(team_ods=team_ods, year=year)
    if not keys:
        return 0
    team = (await uow.copies.teams([team_ods])).get(team_ods) or default_team(team_ods)
    sessions = await uow.copies.clinic_sessions([team_ods])
    timed = []
    for k in keys:
        due = due_time(k, team=team, sessions=sessions, now=now)
        timed.append((k, due, _json_time(due)))
    traced = tracing(cause)
    changed, due_now = 0, False
    # Each event goes to the outbox as it arrives, so memory holds one, not the team's hundred.
    async for e in uow.invitations.retime_team(team_ods=team_ods, year=year, due=timed, now=now, per_event=MAX_BATCH):
        uow.publish(spliced_row(InvitationsScheduled, "invitations", e.items_json, tracing=traced))
        await uow.write_outbox()
        changed, due_now = changed + e.count, due_now or e.due_now
    if due_now:
        uow.due_work(Due.INVITATIONS)
    return changed
