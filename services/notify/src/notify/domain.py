"""Notify's domain: invitation and notification statuses, eligibility, recipients, timing and retry rules."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from notify.scheduling import SendingWindow

FLU = "flu"


class InvitationStatus(StrEnum):
    WAITING = "waiting"  # no upcoming clinic date yet
    SCHEDULED = "scheduled"
    SENDING = "sending"  # notifications created, provider not yet done with all of them
    SENT = "sent"
    FAILED = "failed"  # every notification failed
    CANCELLED = "cancelled"


UNSENT = (InvitationStatus.WAITING, InvitationStatus.SCHEDULED)


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    PERMANENT_FAILURE = "permanent-failure"
    TEMPORARY_FAILURE = "temporary-failure"
    TECHNICAL_FAILURE = "technical-failure"


FINAL = frozenset(
    {
        NotificationStatus.DELIVERED,
        NotificationStatus.PERMANENT_FAILURE,
        NotificationStatus.TEMPORARY_FAILURE,
        NotificationStatus.TECHNICAL_FAILURE,
    }
)

# Where a notification may go next. A retry puts `sending` back to `pending`; nothing leaves a final status.
TRANSITIONS: dict[NotificationStatus, frozenset[NotificationStatus]] = {
    NotificationStatus.PENDING: frozenset({NotificationStatus.SENDING, NotificationStatus.SENT} | FINAL),
    NotificationStatus.SENDING: frozenset({NotificationStatus.PENDING, NotificationStatus.SENT} | FINAL),
    NotificationStatus.SENT: FINAL,
    **{status: frozenset() for status in FINAL},
}


class InvalidTransition(Exception):
    """A status change the notification's lifecycle does not allow."""


def delivery_transition(current: NotificationStatus, reported: NotificationStatus) -> bool:
    """Whether a provider-reported final status applies: True to apply, False for a no-op repeat.

    Statuses only move forward: a final status never changes, so a duplicate or late callback is a
    no-op. A report for a message we have not yet marked sent means the provider has it anyway.
    """
    if reported not in FINAL:
        raise InvalidTransition(f"{reported} is not a delivery status")
    if current in FINAL:
        return False
    if reported not in TRANSITIONS[current]:
        raise InvalidTransition(f"{current} -> {reported}")
    return True


@dataclass(frozen=True, slots=True)
class Parent:
    parent_id: str
    email: str | None = None
    phone: str | None = None

    @property
    def contactable(self) -> bool:
        return bool(self.email or self.phone)


@dataclass(frozen=True, slots=True)
class Child:
    """Notify's copy of a child, as current as the last ChildrenUpserted."""

    child_id: str
    team_ods: str
    first_name: str
    last_name: str
    deceased: bool = False
    restricted: bool = False
    invalidated: bool = False
    archived: bool = False
    parents: tuple[Parent, ...] = ()


@dataclass(frozen=True, slots=True)
class Team:
    ods_code: str
    name: str
    email: str
    phone: str
    booking_url: str | None = None
    reply_to_id: str | None = None
    days_before_invitations: int = 21
    window: SendingWindow = field(default_factory=SendingWindow)


def default_team(ods_code: str) -> Team:
    """Timing defaults for a team whose settings have not arrived yet (never used to word a message)."""
    return Team(ods_code=ods_code, name="", email="", phone="")


@dataclass(frozen=True, slots=True)
class Recipient:
    parent_id: str
    channel: str  # "email" | "sms"
    to: str


def recipients(parents: Iterable[Parent], *, sms: bool = True, only_parent: str | None = None) -> list[Recipient]:
    """One email per address and one text per number over the child's contactable parents, deduplicated."""
    seen: set[tuple[str, str]] = set()
    found: list[Recipient] = []
    for parent in parents:
        if only_parent is not None and parent.parent_id != only_parent:
            continue
        for channel, to in (("email", parent.email), ("sms", parent.phone if sms else None)):
            if not to or not to.strip():
                continue
            key = (channel, "".join(to.split()).lower())
            if key not in seen:
                seen.add(key)
                found.append(Recipient(parent.parent_id, channel, to.strip()))
    return found


def do_not_contact_reason(child: Child, *, archived_blocks: bool = True) -> str | None:
    """Why this child must never be messaged, or None. Confirmations may still reach archived children."""
    if child.deceased:
        return "deceased"
    if child.restricted:
        return "restricted"
    if child.invalidated:
        return "invalidated"
    if archived_blocks and child.archived:
        return "archived"
    return None


@dataclass(frozen=True, slots=True)
class Outcomes:
    """What is settled for one child: programmes vaccinated (by year) and consent refused (by year)."""

    vaccinated: frozenset[tuple[str, int]] = frozenset()
    refused: frozenset[tuple[str, int]] = frozenset()

    def done(self, programme: str, year: int) -> bool:
        # A seasonal flu vaccination counts for its own year only; the others last.
        if programme == FLU:
            return (programme, year) in self.vaccinated
        return any(p == programme for p, _ in self.vaccinated)

    def is_refused(self, programme: str, year: int) -> bool:
        return (programme, year) in self.refused


@dataclass(frozen=True, slots=True)
class Decision:
    """Send for `programmes`, or cancel for `cancel_reason`."""

    programmes: tuple[str, ...] = ()
    cancel_reason: str | None = None


def check_invitation(
    *,
    child: Child,
    programmes: Sequence[str],
    year: int,
    outcomes: Outcomes,
    left_cohort: bool,
    at_send: bool,
) -> Decision:
    """Re-check an unsent invitation. Vaccinated or refused programmes are dropped from the message.

    `at_send` adds the checks that only hold at send time (contactable parents), since parents may
    still be added before then.
    """
    if reason := do_not_contact_reason(child):
        return Decision(cancel_reason=reason)
    if left_cohort:
        return Decision(cancel_reason="left the clinic cohort")
    open_programmes = tuple(p for p in programmes if not outcomes.done(p, year) and not outcomes.is_refused(p, year))
    if not open_programmes:
        vaccinated = all(outcomes.done(p, year) for p in programmes)
        return Decision(cancel_reason="vaccinated" if vaccinated else "consent refused")
    if at_send and not recipients(child.parents):
        return Decision(cancel_reason="no contactable parents")
    return Decision(programmes=open_programmes)


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


@dataclass(slots=True)
class Notification:
    """One message to one recipient on one channel; `reference` is fixed before the first attempt."""

    id: str
    reference: str
    child_id: str
    team_ods: str
    kind: str
    channel: str
    to: str
    template_id: str
    personalisation: dict[str, str]
    next_attempt_at: datetime
    invitation_id: str | None = None
    parent_id: str | None = None
    reply_to_id: str | None = None
    window: SendingWindow | None = None
    status: NotificationStatus = NotificationStatus.PENDING
    attempts: int = 0
    needs_lookup: bool = False
    provider_id: str | None = None


def new_notification(
    *,
    recipient: Recipient,
    child_id: str,
    team_ods: str,
    kind: str,
    template_id: str,
    personalisation: dict[str, str],
    now: datetime,
    invitation_id: str | None = None,
    reply_to_id: str | None = None,
    window: SendingWindow | None = None,
) -> Notification:
    notification_id = str(uuid.uuid4())
    return Notification(
        id=notification_id,
        reference=notification_id,
        child_id=child_id,
        team_ods=team_ods,
        kind=kind,
        channel=recipient.channel,
        to=recipient.to,
        template_id=template_id,
        personalisation=personalisation,
        next_attempt_at=now,
        invitation_id=invitation_id,
        parent_id=recipient.parent_id,
        reply_to_id=reply_to_id if recipient.channel == "email" else None,
        window=window,
    )
