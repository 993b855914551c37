"""Invitations: a child's clinic invitation for some programmes, from request to sent or cancelled, and its due time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from msgkit.clock import london_date
from notify.domain.notifications import ACCEPTED, OPEN, InvalidTransition, NotificationStatus
from notify.domain.recipients import Team, default_team
from notify.domain.timing import ClinicSession, first_clinic_date, invitation_due_at, next_opening


class InvitationStatus(StrEnum):
    WAITING = "waiting"  # no upcoming clinic date yet
    SCHEDULED = "scheduled"
    SENDING = "sending"  # notifications created, provider not yet done with all of them
    SENT = "sent"
    FAILED = "failed"  # every notification failed
    CANCELLED = "cancelled"


UNSENT = (InvitationStatus.WAITING, InvitationStatus.SCHEDULED)
# Not sent yet, though perhaps being sent: a staff repeat waits until none of these is left (SPEC §2.3).
NOT_YET_SENT = (*UNSENT, InvitationStatus.SENDING)


@dataclass(slots=True)
class Invitation:
    """One clinic invitation of a child for some programmes, from request to sent or cancelled."""

    id: str
    child_id: str
    team_ods: str
    academic_year: int
    programmes: tuple[str, ...]
    kind: str  # "initial" | "subsequent"
    trigger: str  # "automatic" | "staff"
    reason: str
    requested_at: datetime
    status: InvitationStatus = InvitationStatus.WAITING
    due_at: datetime | None = None
    requested_by: str | None = None
    cancel_reason: str | None = None

    def schedule(self, due: datetime | None) -> bool:
        """Set the due time (None: wait for dates); True if anything changed."""
        status = InvitationStatus.WAITING if due is None else InvitationStatus.SCHEDULED
        if self.status not in UNSENT:
            raise InvalidTransition(f"cannot re-time a {self.status} invitation")
        changed = (status, due) != (self.status, self.due_at)
        self.status, self.due_at = status, due
        return changed

    def due_by(self, now: datetime) -> bool:
        """Scheduled for `now` or earlier: the dispatcher may expand it."""
        return self.status == InvitationStatus.SCHEDULED and self.due_at is not None and self.due_at <= now

    @property
    def message_kind(self) -> str:
        return "clinic_subsequent_invitation" if self.kind == "subsequent" else "clinic_initial_invitation"


PendingKey = tuple[str, str, int]  # (child, team, academic year)


def keep_new(
    drafts: Iterable[Invitation],
    claimed: Mapping[str, set[str]],
    pending: Mapping[PendingKey, set[str]] | None = None,
) -> list[Invitation]:
    """The drafts, each kept for the programmes it may still invite for.

    Initial invitations keep only programmes not invited before (`claimed` in the ledger). A staff
    repeat (subsequent) keeps only programmes with no invitation not yet sent (`pending`): two clicks
    before the first has gone are one message, and a repeat is made once the earlier one was sent.
    Drafts kept earlier in the batch count as not yet sent for the ones after them.
    """
    waiting = {key: set(programmes) for key, programmes in (pending or {}).items()}
    kept = []
    for d in drafts:
        key = (d.child_id, d.team_ods, d.academic_year)
        if d.kind != "subsequent":
            d.programmes = tuple(p for p in d.programmes if p in claimed.get(d.id, ()))
        else:
            d.programmes = tuple(p for p in d.programmes if p not in waiting.get(key, ()))
        if d.programmes:
            kept.append(d)
            waiting.setdefault(key, set()).update(d.programmes)
    return kept


def due_at(
    *, now: datetime, requested_at: datetime, first_date: date | None, team: Team, trigger: str
) -> datetime | None:
    """When an invitation is due, judged now but with the staff "next day" rule counted from the request.

    Re-timing after dates move must not push a staff invitation another day later, so the rules of
    `timing.invitation_due_at` run from the request time and the result is never before now.
    """
    if first_date is None or first_date <= london_date(now):
        return None
    due = invitation_due_at(
        now=min(requested_at, now),
        first_clinic_date=first_date,
        days_before=team.days_before_invitations,
        trigger="staff" if trigger == "staff" else "automatic",
        window=team.window,
    )
    return None if due is None else next_opening(max(due, now), team.window)


Sessions = Mapping[tuple[str, int], Sequence[ClinicSession]]  # a team's clinic sessions by (team, academic year)


class Request(Protocol):
    """What an invitation's due time depends on, besides its team's settings and clinic dates."""

    @property
    def academic_year(self) -> int: ...
    @property
    def programmes(self) -> tuple[str, ...]: ...
    @property
    def trigger(self) -> str: ...
    @property
    def requested_at(self) -> datetime: ...


def due_time(request: Request, *, team: Team, sessions: Sessions, now: datetime) -> datetime | None:
    """The due time of an invitation of `team` from its clinic dates (None: no upcoming date, it waits)."""
    first = first_clinic_date(
        sessions.get((team.ods_code, request.academic_year), ()), request.programmes, london_date(now)
    )
    return due_at(now=now, requested_at=request.requested_at, first_date=first, team=team, trigger=request.trigger)


def schedule_all(
    items: Sequence[Invitation], *, teams: Mapping[str, Team], sessions: Sessions, now: datetime
) -> list[Invitation]:
    """Set each invitation's due time from its team's settings and clinic dates; returns those that changed."""
    changed = []
    # A batch is mostly one team, year, programme set and request time: work each due time out once.
    known: dict[tuple[str, int, tuple[str, ...], str, datetime], datetime | None] = {}
    for i in items:
        key = (i.team_ods, i.academic_year, i.programmes, i.trigger, i.requested_at)
        if key not in known:
            team = teams.get(i.team_ods) or default_team(i.team_ods)
            known[key] = due_time(i, team=team, sessions=sessions, now=now)
        if i.schedule(known[key]):
            changed.append(i)
    return changed


def settled_status(messages: Iterable[NotificationStatus]) -> InvitationStatus | None:
    """An expanded (`sending`) invitation's status from its messages' statuses; None while it is still sending.

    Sent once any of its messages is accepted. Once none is left that could be: cancelled if any was
    cancelled, since its purpose is gone; else failed.
    """
    statuses = set(messages)
    if statuses & ACCEPTED:
        return InvitationStatus.SENT
    if statuses & OPEN:
        return None
    return InvitationStatus.CANCELLED if NotificationStatus.CANCELLED in statuses else InvitationStatus.FAILED
