"""Notify's domain: invitation and notification statuses, eligibility, recipients, timing and retry rules."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from notify.scheduling import SendingWindow

FLU = "flu"
NO_RESPONSE = "no_response"

INVITATION_KINDS = frozenset({"clinic_initial_invitation", "clinic_subsequent_invitation"})
CONSENT_REQUEST = "consent_clinic_request"
CONFIRMATION_KINDS = frozenset({"consent_confirmation_given", "consent_confirmation_refused"})


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
    CANCELLED = "cancelled"  # never reached the provider: its purpose had gone when it was claimed


# The provider's final statuses (what a delivery receipt may report).
FINAL = frozenset(
    {
        NotificationStatus.DELIVERED,
        NotificationStatus.PERMANENT_FAILURE,
        NotificationStatus.TEMPORARY_FAILURE,
        NotificationStatus.TECHNICAL_FAILURE,
    }
)
TERMINAL = FINAL | {NotificationStatus.CANCELLED}

# Where a notification may go next. A retry puts `sending` back to `pending`; nothing leaves a terminal status.
# `sending` may be cancelled only once a lookup has shown the provider never had it.
TRANSITIONS: dict[NotificationStatus, frozenset[NotificationStatus]] = {
    NotificationStatus.PENDING: frozenset({NotificationStatus.SENDING, NotificationStatus.SENT} | TERMINAL),
    NotificationStatus.SENDING: frozenset({NotificationStatus.PENDING, NotificationStatus.SENT} | TERMINAL),
    NotificationStatus.SENT: FINAL,
    **{status: frozenset() for status in TERMINAL},
}


class InvalidTransition(Exception):
    """A status change the notification's lifecycle does not allow."""


def delivery_transition(current: NotificationStatus, reported: NotificationStatus) -> bool:
    """Whether a provider-reported final status applies: True to apply, False for a no-op repeat.

    Statuses only move forward: a terminal status never changes, so a duplicate or late callback is a
    no-op. A report for a message we have not yet marked sent means the provider has it anyway.
    """
    if reported not in FINAL:
        raise InvalidTransition(f"{reported} is not a delivery status")
    if current in TERMINAL:
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
    """What is settled for one child: programmes vaccinated, consent refused, and any consent status, by year."""

    vaccinated: frozenset[tuple[str, int]] = frozenset()
    refused: frozenset[tuple[str, int]] = frozenset()
    consent: Mapping[tuple[str, int], str] = field(default_factory=dict)  # given | refused | conflicting

    def done(self, programme: str, year: int) -> bool:
        # A seasonal flu vaccination counts for its own year only; the others last.
        if programme == FLU:
            return (programme, year) in self.vaccinated
        return any(p == programme for p, _ in self.vaccinated)

    def is_refused(self, programme: str, year: int) -> bool:
        return (programme, year) in self.refused

    def response(self, programme: str, year: int) -> str | None:
        """The consent status once any response is recorded, else None."""
        status = self.consent.get((programme, year))
        return None if status in (None, NO_RESPONSE) else status


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


_ANSWERED = {"given": "consent already given", "refused": "consent refused", "conflicting": "consent conflicting"}


def _answered(programme: str, year: int, outcomes: Outcomes) -> str | None:
    if outcomes.done(programme, year):
        return "vaccinated"
    response = outcomes.response(programme, year)
    return None if response is None else _ANSWERED.get(response, f"consent {response}")


def check_consent_request(
    *, child: Child, programmes: Sequence[str], year: int | None, outcomes: Outcomes, left_cohort: bool
) -> Decision:
    """Re-check a consent request before it is sent: it goes only while it still asks something.

    A programme is answered once any response is recorded (given, refused or conflicting; a withdrawal
    arrives as refused or conflicting, so it counts too: the parent has answered) or the child is
    vaccinated for it. Answered programmes drop out; the request is cancelled when none is left.
    Without its programmes and year (a message older than their recording) only the child is judged.
    """
    if reason := do_not_contact_reason(child):
        return Decision(cancel_reason=reason)
    if left_cohort:
        return Decision(cancel_reason="left the clinic cohort")
    if year is None or not programmes:
        return Decision(programmes=tuple(programmes))
    answered = {p: _answered(p, year, outcomes) for p in programmes}
    open_programmes = tuple(p for p, reason in answered.items() if reason is None)
    if not open_programmes:
        return Decision(cancel_reason=", ".join(dict.fromkeys(r for r in answered.values() if r)))
    return Decision(programmes=open_programmes)


def check_message(
    notification: Notification, *, child: Child | None, outcomes: Outcomes, left_cohort: bool
) -> Decision:
    """Re-check a composed notification as it is claimed for the provider: one rule per message kind.

    Invitations: as when they were expanded (`check_invitation` at send time). Consent requests:
    `check_consent_request`. Confirmations answer what a parent just did, so only deceased, restricted
    and invalidated stop them (not archived). Without a copy of the child (never deleted, so never in
    practice) there is nothing to judge by.
    """
    programmes, year = notification.programmes, notification.academic_year
    if child is None:
        return Decision(programmes=programmes)
    if notification.kind in INVITATION_KINDS and programmes and year is not None:
        return check_invitation(
            child=child, programmes=programmes, year=year, outcomes=outcomes, left_cohort=left_cohort, at_send=True
        )
    if notification.kind in CONFIRMATION_KINDS:
        reason = do_not_contact_reason(child, archived_blocks=False)
        return Decision(programmes=programmes, cancel_reason=reason)
    # Consent requests, and invitations stored without their programmes, which then get the same checks.
    return check_consent_request(
        child=child, programmes=programmes if notification.kind == CONSENT_REQUEST else (), year=year,
        outcomes=outcomes, left_cohort=left_cohort,
    )  # fmt: skip


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
    programmes: tuple[str, ...] = ()  # what the message is about, to re-check it as it is sent
    academic_year: int | None = None
    status: NotificationStatus = NotificationStatus.PENDING
    attempts: int = 0
    needs_lookup: bool = False
    provider_id: str | None = None
    # Set on a claimed message that may already be with the provider: cancelled unless the lookup finds it.
    cancel_reason: str | None = None


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
    programmes: Sequence[str] = (),
    academic_year: int | None = None,
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
        programmes=tuple(programmes),
        academic_year=academic_year,
    )
