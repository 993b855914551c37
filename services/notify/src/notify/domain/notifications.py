"""Notifications: one message to one recipient on one channel, its statuses and the moves between them,
how it is composed, and what becomes of it after an attempt."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from notify.domain.recipients import Child, Recipient, Team, recipients
from notify.domain.templates import Channel, MessageKind, TemplateCatalogue, personalisation
from notify.domain.timing import SendingWindow, next_opening, retry_at


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    PERMANENT_FAILURE = "permanent-failure"
    TEMPORARY_FAILURE = "temporary-failure"
    TECHNICAL_FAILURE = "technical-failure"
    CANCELLED = "cancelled"  # never reached the provider: its purpose had gone when it was claimed


S = NotificationStatus
# The provider's final statuses (what a delivery receipt may report).
FINAL = frozenset({S.DELIVERED, S.PERMANENT_FAILURE, S.TEMPORARY_FAILURE, S.TECHNICAL_FAILURE})
TERMINAL = FINAL | {S.CANCELLED}
OPEN = frozenset({S.PENDING, S.SENDING})  # not with the provider for certain: may still be sent, fail or be cancelled
ACCEPTED = frozenset({S.SENT, S.DELIVERED})  # the provider took it


@dataclass(frozen=True, slots=True)
class Move:
    """One way a notification's status changes: the statuses it may start from, and those it may end in.

    The repositories render their SQL guards from `sources` (`persistence/notifications_sql.py`).
    """

    sources: frozenset[NotificationStatus]
    targets: frozenset[NotificationStatus]

    def allows(self, current: NotificationStatus) -> bool:
        return current in self.sources


CLAIM = Move(frozenset({S.PENDING}), frozenset({S.SENDING}))  # claimed for an attempt
SEND = Move(OPEN, frozenset({S.SENT}))  # the provider took it
RETRY = Move(frozenset({S.SENDING}), frozenset({S.PENDING}))  # an attempt to repeat, or one a dead replica left
FAIL = Move(OPEN, frozenset({S.PERMANENT_FAILURE, S.TECHNICAL_FAILURE}))  # an attempt failed for good
# Only a message the provider never had is cancelled: pending, or sending once a lookup found nothing.
CANCEL = Move(OPEN, frozenset({S.CANCELLED}))
# The provider's final word. A report for a message we have not yet marked sent means the provider has it anyway.
RECEIPT = Move(OPEN | {S.SENT}, FINAL)
MOVES = (CLAIM, SEND, RETRY, FAIL, CANCEL, RECEIPT)

# Where a notification may go next, by all moves together. A retry puts `sending` back to `pending`; nothing
# leaves a terminal status; `sending` may be cancelled only once a lookup has shown the provider never had it.
TRANSITIONS: dict[NotificationStatus, frozenset[NotificationStatus]] = {
    status: frozenset(t for m in MOVES if m.allows(status) for t in m.targets) for status in NotificationStatus
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


@dataclass(frozen=True, slots=True)
class Content:
    """What a message says and what it is about: one kind, for one child, from one team."""

    child: Child
    team: Team
    kind: str
    programmes: Sequence[str]
    academic_year: int
    invitation_id: str | None = None
    window: SendingWindow | None = None
    # Personalisation beyond the child's and team's (a consent request's form link, an online response's).
    extra: Mapping[str, str] = field(default_factory=dict)


def personalise(child: Child, team: Team, programmes: Sequence[str]) -> dict[str, str]:
    return personalisation(
        child_given_name=child.first_name,
        child_family_name=child.last_name,
        programmes=programmes,
        team_name=team.name,
        team_email=team.email,
        team_phone=team.phone,
        # Teams without an online booking service take bookings by phone.
        booking_link=team.booking_url or team.phone,
    )


def compose(
    content: Content,
    *,
    now: datetime,
    catalogue: TemplateCatalogue,
    new_id: Callable[[], str],
    sms: bool = True,
    only_parent: str | None = None,
    to: Sequence[Recipient] | None = None,
) -> list[Notification]:
    """One notification per contactable parent and channel (or per recipient in `to`), in the team's template."""
    values = {**personalise(content.child, content.team, content.programmes), **content.extra}
    chosen = recipients(content.child.parents, sms=sms, only_parent=only_parent) if to is None else to
    return [
        _notification(content, recipient, catalogue, values, now=now, notification_id=new_id()) for recipient in chosen
    ]


def _notification(
    content: Content,
    recipient: Recipient,
    catalogue: TemplateCatalogue,
    values: dict[str, str],
    *,
    now: datetime,
    notification_id: str,
) -> Notification:
    template = catalogue.resolve(MessageKind(content.kind), Channel(recipient.channel), content.team.ods_code)
    return Notification(
        id=notification_id,
        reference=notification_id,
        child_id=content.child.child_id,
        team_ods=content.team.ods_code,
        kind=content.kind,
        channel=recipient.channel,
        to=recipient.to,
        template_id=template.id,
        personalisation=values,
        next_attempt_at=now,
        invitation_id=content.invitation_id,
        parent_id=recipient.parent_id,
        reply_to_id=content.team.reply_to_id if recipient.channel == "email" else None,
        window=content.window,
        programmes=tuple(content.programmes),
        academic_year=content.academic_year,
    )


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one provider call (or lookup) came to."""

    notification: Notification
    provider_id: str | None = None
    retry: bool = False
    lookup: bool = False  # the provider may have it: look it up before any resend
    # The send may still be in flight at the provider (it timed out or was cut off): the lookup must wait
    # until it can no longer be, or it finds nothing while the provider is still taking the message.
    in_flight: bool = False
    failure: NotificationStatus | None = None
    error: str = ""
    retry_after: float | None = None
    cancel_reason: str | None = None  # the lookup found nothing, and the message's purpose has gone
    # The provider may count this attempt against the day's limit: False when no send reached it, or it
    # refused the send (GOV.UK Notify counts the messages it accepts), and the day's grant is given back.
    counted: bool = True


@dataclass(frozen=True, slots=True)
class Retry:
    at: datetime  # inside the message's sending window
    lookup: bool
    error: str


@dataclass(frozen=True, slots=True)
class Failed:
    status: NotificationStatus
    error: str


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    base: float  # seconds of the first backoff step
    cap: float  # seconds no step exceeds
    in_flight: float = 0.0  # seconds the provider may go on with a request after we gave up on it


def after_attempt(attempt: Attempt, now: datetime, policy: RetryPolicy, rng: random.Random) -> Retry | Failed | None:
    """Retry (with backoff, in the message's window) or give up after an attempt; None if it was sent or cancelled.

    A retry after the last allowed attempt is a technical failure. One whose send may still be in flight
    at the provider waits at least `policy.in_flight`, so its lookup comes after the provider could still
    take the message.
    """
    n = attempt.notification
    if attempt.retry and n.attempts >= policy.max_attempts:
        return Failed(S.TECHNICAL_FAILURE, f"gave up after {n.attempts}: {attempt.error}"[:300])
    if attempt.retry:
        floor = max(attempt.retry_after or 0.0, policy.in_flight if attempt.in_flight else 0.0)
        at = retry_at(now, attempts=n.attempts, base=policy.base, cap=policy.cap, floor=floor, rng=rng)
        return Retry(next_opening(at, n.window) if n.window else at, attempt.lookup, attempt.error[:300])
    if attempt.failure is not None:
        return Failed(attempt.failure, attempt.error[:300])
    return None
