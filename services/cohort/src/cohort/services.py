"""Use cases staff drive (request-reply), and joining the clinic cohort, which several of them share."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from cohort import activity
from cohort.domain import (
    Child,
    CohortYear,
    Invitation,
    Join,
    JoinReason,
    Trigger,
    child_year_group,
    eligible_programmes,
    invitation_for,
    new_programmes,
    programmes_or_default,
    reason_for_school,
    staff_invite,
)
from cohort.messages import children_upserted, joined_and_invited
from cohort.uow import CohortUnitOfWork
from contracts.cohort import AddWalkIn, ChangeChildSchool, InviteChildToClinic, SetChildFlags
from contracts.envelope import Message, Reply
from msgkit.clock import academic_year_of, london_date, readable


async def join_and_invite(
    uow: CohortUnitOfWork,
    joins: Sequence[Join],
    cohort: CohortYear,
    *,
    trigger: Trigger,
    requested_by: str | None,
    cause: Message,
) -> list[Join]:
    """Add memberships (existing ones are no-ops), then announce the joins and ask notify to invite."""
    joined = await uow.memberships.add(joins, cohort)
    invitations = [invitation_for(j, trigger, requested_by) for j in joined]
    uow.publish(*joined_and_invited(joined, invitations, cohort, cause=cause))
    at, source = cause.occurred_at, cause.message_id
    await uow.activity.append([activity.joined(j, cohort, at=at, source=source) for j in joined])
    return joined


# --- shared steps of the staff commands --------------------------------------------------------


async def _replayed(uow: CohortUnitOfWork, command: Message) -> Reply | None:
    """The stored reply of a request handled before (a redelivery), else None after claiming it."""
    if await uow.claim(command):
        return None
    stored = await uow.replies.get(command.message_id)
    return Reply.model_validate(stored) if stored else Reply.success({"duplicate": True})


async def _answered(uow: CohortUnitOfWork, command: Message, data: dict[str, Any]) -> Reply:
    reply = Reply.success(data)
    await uow.replies.add(command.message_id, reply.model_dump(mode="json"))
    await uow.commit()
    return reply


async def _child(uow: CohortUnitOfWork, child_id: uuid.UUID, team_ods: str | None = None) -> Child | Reply:
    """The child, locked for this change, or the refusal to reply with."""
    child = await uow.children.get(child_id, for_update=True)
    if child is None or (team_ods is not None and child.team_ods != team_ods):
        return Reply.failure("not_found", "There is no child with that id in this team")
    return child


async def _joinable(uow: CohortUnitOfWork, child_id: uuid.UUID, team_ods: str) -> Child | Reply:
    child = await _child(uow, child_id, team_ods)
    if isinstance(child, Child) and not child.flags.may_join:
        return Reply.failure("do_not_contact", "The child is archived or deceased, so cannot join a clinic cohort")
    return child


def _this_year(team_ods: str, now: datetime) -> CohortYear:
    today = london_date(now)
    return CohortYear(team_ods, academic_year_of(today), today)


async def _programmes(uow: CohortUnitOfWork, requested: Sequence[str] | None, team_ods: str) -> tuple[str, ...]:
    return programmes_or_default(requested, await uow.children.team_programmes(team_ods))


# --- staff commands -----------------------------------------------------------------------------


async def invite_child(command: InviteChildToClinic, uow: CohortUnitOfWork, now: datetime) -> Reply:
    """*Invite to community clinic*: join for new programmes (initial), or an explicit repeat (subsequent)."""
    async with uow:
        if (replay := await _replayed(uow, command)) is not None:
            return replay
        if isinstance(child := await _joinable(uow, command.child_id, command.team_ods), Reply):
            return child
        cohort = _this_year(child.team_ods, now)
        asked = await _programmes(uow, command.programmes, child.team_ods)
        if not (programmes := eligible_programmes(asked, child_year_group(child, cohort.academic_year))):
            return _not_in_year_groups(child, asked, cohort)
        member_of = await uow.memberships.programmes_of(child.id, cohort)
        join, invitation = staff_invite(child.id, programmes, member_of, requested_by=command.requested_by)
        data = {"child_id": str(child.id), "kind": invitation.kind.value, "programmes": list(invitation.programmes)}
        if join is not None:
            await join_and_invite(
                uow, [join], cohort, trigger=Trigger.STAFF, requested_by=command.requested_by, cause=command
            )
        elif (unsent := await _unsent(uow, invitation, cohort, now)) is not None:
            data = {**data, "kind": "none", **unsent}
        else:
            await _repeat(uow, invitation, cohort, cause=command)
        return await _answered(uow, command, {**data, "academic_year": cohort.academic_year})


async def _unsent(
    uow: CohortUnitOfWork, invitation: Invitation, cohort: CohortYear, now: datetime
) -> dict[str, Any] | None:
    """What to tell staff when a repeat would come before the earlier invitation has gone (SPEC §2.3), else None.

    As far as notify's events have arrived; notify's ledger refuses such a repeat whatever this copy says.
    """
    year = (cohort.team_ods, cohort.academic_year)
    unsent = await uow.copies.unsent_invitation(invitation.child_id, year, invitation.programmes, now)
    if unsent is None:
        return None
    if unsent.due_at is None:
        return {"already_due_at": None, "message": "an invitation is already waiting for clinic dates"}
    when = readable(unsent.due_at)  # London time, as staff read it: "8 Dec 2026 09:00"
    return {"already_due_at": unsent.due_at.isoformat(), "message": f"an invitation is already due at {when}"}


async def _repeat(uow: CohortUnitOfWork, invitation: Invitation, cohort: CohortYear, *, cause: Message) -> None:
    uow.publish(*joined_and_invited([], [invitation], cohort, cause=cause))
    await uow.activity.append([activity.repeat_requested(invitation, at=cause.occurred_at, source=cause.message_id)])


async def add_walk_in(command: AddWalkIn, uow: CohortUnitOfWork, now: datetime) -> Reply:
    """A child who turned up at today's clinic joins its cohort; notify's next-day rule lets a vaccination win."""
    async with uow:
        if (replay := await _replayed(uow, command)) is not None:
            return replay
        if isinstance(child := await _joinable(uow, command.child_id, command.team_ods), Reply):
            return child
        if (no_clinic := await _no_clinic_today(uow, child.team_ods, london_date(now))) is not None:
            return no_clinic
        cohort = _this_year(child.team_ods, now)
        programmes = await _programmes(uow, command.programmes, child.team_ods)
        offered = eligible_programmes(programmes, child_year_group(child, cohort.academic_year))
        if not offered:
            return _not_in_year_groups(child, programmes, cohort)
        joining = new_programmes(offered, await uow.memberships.programmes_of(child.id, cohort))
        joins = [Join(child.id, joining, JoinReason.WALK_IN)] if joining else []
        joined = await join_and_invite(
            uow, joins, cohort, trigger=Trigger.STAFF, requested_by=command.requested_by, cause=command
        )
        data = {"child_id": str(child.id), "joined": bool(joined), "programmes": list(joining)}
        return await _answered(uow, command, {**data, "academic_year": cohort.academic_year})


async def _no_clinic_today(uow: CohortUnitOfWork, team_ods: str, today: date) -> Reply | None:
    """The refusal of a walk-in on a day the team runs no community clinic, or None on a clinic day."""
    days = await uow.copies.clinic_dates(team_ods)
    if today in days:
        return None
    upcoming = [d for d in days if d > today]
    then = f"its next clinic is on {readable(upcoming[0])}" if upcoming else "it has no clinic dates to come"
    return Reply.failure(
        "no_clinic_today",
        f"Team {team_ods} has no community clinic today ({readable(today)}), so no one can walk in to one; {then}.",
    )


def _not_in_year_groups(child: Child, programmes: Sequence[str], cohort: CohortYear) -> Reply:
    """Mavis's words: a child outside a programme's year groups "is not part of this programme"."""
    group, year = child_year_group(child, cohort.academic_year), cohort.academic_year
    offered = "is" if len(programmes) == 1 else "are"
    return Reply.failure(
        "not_in_year_groups",
        f"The child is not part of this programme: {', '.join(programmes)} {offered} not offered to year {group}"
        f" (the child's year group in {year}/{(year + 1) % 100:02d}).",
    )


async def change_school(command: ChangeChildSchool, uow: CohortUnitOfWork, now: datetime) -> Reply:
    """A new school; the clinic URNs (school unknown, home-educated) join the team's clinic cohort."""
    async with uow:
        if (replay := await _replayed(uow, command)) is not None:
            return replay
        if isinstance(child := await _child(uow, command.child_id), Reply):
            return child
        joined: list[Join] = []
        if child.school_urn != command.school_urn:
            child.school_urn = command.school_urn
            await uow.children.save_school(child)
            uow.publish(*children_upserted([child], cause=command))
            joined = await _join_for_school(uow, child, now, cause=command)
        data = {"child_id": str(child.id), "school_urn": child.school_urn, "joined": bool(joined)}
        return await _answered(uow, command, data)


async def _join_for_school(uow: CohortUnitOfWork, child: Child, now: datetime, *, cause: Message) -> list[Join]:
    reason = reason_for_school(child.school_urn)
    if reason is None or not child.flags.may_join:
        return []
    cohort = _this_year(child.team_ods, now)
    # Only the programmes offered to the child's year group (issue 19 item 11).
    programmes = eligible_programmes(
        await _programmes(uow, None, child.team_ods), child_year_group(child, cohort.academic_year)
    )
    if not programmes:
        return []
    joins = [Join(child.id, programmes, reason)]
    return await join_and_invite(uow, joins, cohort, trigger=Trigger.AUTOMATIC, requested_by=None, cause=cause)


async def set_flags(command: SetChildFlags, uow: CohortUnitOfWork) -> Reply:
    """Do-not-contact flags; the new snapshot tells notify to stop messaging (checked at send time)."""
    async with uow:
        if (replay := await _replayed(uow, command)) is not None:
            return replay
        if isinstance(child := await _child(uow, command.child_id), Reply):
            return child
        flags = child.flags.changed(
            deceased=command.deceased,
            restricted=command.restricted,
            invalidated=command.invalidated,
            archived=command.archived,
        )
        if flags != child.flags:
            child.flags = flags
            await uow.children.save_flags(child)
            if flags.restricted:
                await uow.activity.hide_recipients(child.id)
            uow.publish(*children_upserted([child], cause=command))
        data = {"deceased": flags.deceased, "restricted": flags.restricted, "invalidated": flags.invalidated}
        return await _answered(uow, command, {"child_id": str(child.id), **data, "archived": flags.archived})
