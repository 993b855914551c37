"""Steps the use cases share: timing invitations from the local copies, re-timing, and cancelling the ineligible."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from contracts.bulk import InvitationRequestRow
from contracts.cohort import InvitationKind, InviteToClinic
from contracts.common import MAX_BATCH, Programme
from contracts.envelope import Message
from contracts.notify import InvitationCancelled, InvitationsScheduled
from msgkit.outbox import OutboxRow, spliced_row
from notify.domain.eligibility import judge
from notify.domain.invitations import Invitation, due_time, schedule_all
from notify.domain.recipients import default_team
from notify.persistence.uow import Due, NotifyUnitOfWork


def tracing(cause: Message | None) -> dict[str, Any]:
    return cause.caused_by(cause) if cause is not None else {}


def draft(request: InvitationRequestRow, command: InviteToClinic) -> Invitation:
    return Invitation(
        id=str(uuid.uuid4()),
        child_id=str(request["child_id"]),
        team_ods=request["team_ods"],
        academic_year=request["academic_year"],
        programmes=tuple(dict.fromkeys(str(p) for p in request["programmes"])),
        kind=str(request.get("kind", InvitationKind.INITIAL)),
        trigger=str(request["trigger"]),
        reason=str(request["reason"]),
        requested_at=command.occurred_at,
        requested_by=request.get("requested_by"),
    )


async def schedule(
    uow: NotifyUnitOfWork, items: Sequence[Invitation], now: datetime, *, wake: bool = True
) -> list[Invitation]:
    """Set each invitation's due time from the team's settings and clinic dates; returns those that changed.

    Unless `wake` is False (the caller expands what is due itself), a commit wakes the expand loop if
    any is due now.
    """
    if not items:
        return []
    teams = await uow.copies.teams(i.team_ods for i in items)
    sessions = await uow.copies.clinic_sessions(i.team_ods for i in items)
    changed = schedule_all(items, teams=teams, sessions=sessions, now=now)
    if wake and any(i.due_by(now) for i in changed):
        uow.due_work(Due.INVITATIONS)
    return changed


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
    trigger and request time: each distinct combination is timed once here (by `due_at`, as new
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


def cancelled_event(invitation: Invitation, reason: str, cause: Message | None) -> InvitationCancelled:
    return InvitationCancelled(
        invitation_id=uuid.UUID(invitation.id),
        child_id=uuid.UUID(invitation.child_id),
        team_ods=invitation.team_ods,
        programmes=[Programme(p) for p in invitation.programmes],
        reason=reason,
        **tracing(cause),
    )


async def cancel(
    uow: NotifyUnitOfWork, items: Sequence[tuple[Invitation, str]], now: datetime, cause: Message | None
) -> None:
    await uow.invitations.cancel(items, now)
    uow.publish(*(cancelled_event(i, reason, cause) for i, reason in items))


async def settle(uow: NotifyUnitOfWork, invitation_ids: Iterable[str | None], now: datetime) -> None:
    """Settle expanded invitations once their messages are done; those whose messages were cancelled are
    cancelled too, with InvitationCancelled."""
    settled = await uow.invitations.settle([i for i in invitation_ids if i], now)
    uow.publish(*(cancelled_event(i, i.cancel_reason or "cancelled", None) for i in settled))


async def cancel_ineligible(
    uow: NotifyUnitOfWork, child_ids: Sequence[str], now: datetime, cause: Message | None
) -> int:
    """Cancel unsent invitations that can no longer be sent (vaccinated, refused, left, do-not-contact)."""
    if not child_ids:
        return 0
    unsent = await uow.invitations.unsent(child_ids=child_ids)
    if not unsent:
        return 0
    children = await uow.copies.children(child_ids)
    outcomes = await uow.copies.outcomes(child_ids)
    leavers = await uow.copies.leavers(child_ids)
    doomed = []
    for invitation in unsent:
        child = children.get(invitation.child_id)
        if child is None:
            continue  # judged at send time, once the child's details have arrived
        decision = judge(invitation, child, outcomes, leavers, at_send=False)
        if decision.cancel_reason:
            doomed.append((invitation, decision.cancel_reason))
    await cancel(uow, doomed, now, cause)
    return len(doomed)
