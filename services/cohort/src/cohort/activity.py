"""Activity log entries of a child: what is stored from each event, and how staff read it.

Entries store their kind and facts only; the sentence is written when the log is read, so a recipient
is hidden from the moment a child is restricted, and a bulk import can write its entries in SQL. A
recipient is stored in full (staff must tell a child's two parents apart), never for a restricted child:
restricting a child also erases the recipients already stored (`ActivityRepository.hide_recipients`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cohort import import_activity
from cohort.domain import HIDDEN, CohortYear, Invitation, Join, JoinReason, shown_recipient
from contracts.common import MessageKind, Programme
from contracts.consent import ConsentRecorded, ConsentRequested
from contracts.envelope import Message
from contracts.notify import (
    DeliveryStatus,
    InvitationCancelled,
    NotificationCancelled,
    NotificationsSent,
    NotificationsSettled,
    SentNotification,
    SettledNotification,
)
from contracts.sessions import VaccinationRecorded
from msgkit.clock import readable_iso

JOINED = "joined_clinic_cohort"
# Written in SQL, from InvitationsScheduled (copies_sql); read here.
SCHEDULED = "invitation_scheduled"
# How staff read the contract's words (dict keys are enum members; stored details hold their values).
JOIN_REASONS: dict[str, str] = {
    JoinReason.UNKNOWN_SCHOOL: "school unknown",
    JoinReason.HOME_EDUCATED: "home-educated",
    JoinReason.SCHOOL_SESSION_CLOSED: "not vaccinated at school",
    JoinReason.STAFF_INVITE: "invited by staff",
    JoinReason.WALK_IN: "walked in to a clinic",
}
PROGRAMME_NAMES: dict[str, str] = {
    Programme.FLU: "Flu",
    Programme.HPV: "HPV",
    Programme.MENACWY: "MenACWY",
    Programme.TD_IPV: "Td/IPV",
    Programme.MMR: "MMR",
}
MESSAGE_NAMES: dict[str, str] = {
    MessageKind.CLINIC_INITIAL_INVITATION: "Clinic initial invitation",
    MessageKind.CLINIC_SUBSEQUENT_INVITATION: "Clinic subsequent invitation",
    MessageKind.CONSENT_CLINIC_REQUEST: "Consent request",
    MessageKind.CONSENT_CONFIRMATION_GIVEN: "Consent confirmation",
    MessageKind.CONSENT_CONFIRMATION_REFUSED: "Consent refusal confirmation",
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a child's activity log; `source_key` makes a redelivered message add nothing."""

    child_id: uuid.UUID
    occurred_at: datetime
    kind: str
    source_key: uuid.UUID
    details: dict[str, Any] = field(default_factory=dict)


def source_key(message_id: uuid.UUID, part: str = "") -> uuid.UUID:
    """The key of the entry a message makes (one per part, for messages about several children)."""
    return uuid.uuid5(message_id, part) if part else message_id


def programme_names(programmes: Iterable[str]) -> str:
    return ", ".join(PROGRAMME_NAMES.get(str(p), str(p)) for p in programmes)


# --- what is stored -----------------------------------------------------------------------------


def joined(join: Join, cohort: CohortYear, *, at: datetime, source: uuid.UUID) -> Entry:
    details = {
        "programmes": list(join.programmes),
        "reason": join.reason.value,
        "academic_year": cohort.academic_year,
        "joined_on": cohort.joined_on.isoformat(),
    }
    return Entry(join.child_id, at, JOINED, source_key(source, f"join:{join.child_id}"), details)


def repeat_requested(invitation: Invitation, *, at: datetime, source: uuid.UUID) -> Entry:
    details = {"programmes": list(invitation.programmes), "requested_by": invitation.requested_by}
    return Entry(invitation.child_id, at, "invitation_requested", source_key(source, "repeat"), details)


def invitation_cancelled(event: InvitationCancelled) -> Entry:
    details = {
        "invitation_id": str(event.invitation_id),
        "programmes": [p.value for p in event.programmes],
        "reason": event.reason,
    }
    return Entry(event.child_id, event.occurred_at, "invitation_cancelled", source_key(event.message_id), details)


def notification_sent(event: NotificationsSent, sent: SentNotification, *, restricted: bool) -> Entry:
    details = {
        "notification_id": str(sent.notification_id),
        "message": sent.kind.value,
        "channel": sent.channel.value,
        "recipient": shown_recipient(sent.recipient, restricted=restricted),
    }
    key = source_key(event.message_id, str(sent.notification_id))
    return Entry(sent.child_id, sent.sent_at, "notification_sent", key, details)


def notification_settled(event: NotificationsSettled, n: SettledNotification) -> Entry:
    details: dict[str, Any] = {
        "notification_id": str(n.notification_id),
        "message": n.kind.value,
        "channel": n.channel.value,
    }
    if n.status is DeliveryStatus.DELIVERED:
        kind = "notification_delivered"
    else:
        kind = "notification_failed"
        details |= {"status": n.status.value, "reason": n.reason}
    return Entry(n.child_id, n.settled_at, kind, source_key(event.message_id, str(n.notification_id)), details)


def notification_cancelled(event: NotificationCancelled) -> Entry:
    details = {
        "notification_id": str(event.notification_id),
        "message": event.kind.value,
        "channel": event.channel.value,
        "reason": event.reason,
    }
    return Entry(event.child_id, event.occurred_at, "notification_cancelled", source_key(event.message_id), details)


def consent_requested(event: ConsentRequested) -> Entry:
    details = {"programmes": [p.value for p in event.programmes], "requested_by": event.requested_by}
    return Entry(event.child_id, event.occurred_at, "consent_requested", source_key(event.message_id), details)


def consent_recorded(event: ConsentRecorded) -> Entry:
    details = {
        "programme": event.programme.value,
        "response": event.response.value,
        "route": event.route.value,
        "status": event.status.value,
        "recorded_by": event.recorded_by,
    }
    return Entry(event.child_id, event.recorded_at, "consent_recorded", source_key(event.message_id), details)


def vaccination_recorded(event: VaccinationRecorded) -> Entry:
    details = {
        "programme": event.programme.value,
        "outcome": event.outcome.value,
        "reason": event.reason.value if event.reason else None,
        "session_id": str(event.session_id),
        "recorded_by": event.recorded_by,
    }
    return Entry(event.child_id, event.performed_at, "vaccination_recorded", source_key(event.message_id), details)


def entries_of(event: Message) -> list[Entry]:
    """The entries of an event that only adds to activity logs (NotificationsSent, which also needs the
    children's restricted flags, is made by `notification_sent`)."""
    if isinstance(event, NotificationsSettled):
        return [notification_settled(event, n) for n in event.notifications]
    if isinstance(event, NotificationCancelled):
        return [notification_cancelled(event)]
    if isinstance(event, ConsentRequested):
        return [consent_requested(event)]
    raise TypeError(f"{type(event).__name__} makes no activity entries of its own")


def weight(event: Message) -> int:
    """How many entries an event makes, so a batch of them stays a bounded transaction."""
    if isinstance(event, NotificationsSettled | NotificationsSent):
        return len(event.notifications)
    return 1


# --- how staff read it --------------------------------------------------------------------------


def shown(kind: str, details: dict[str, Any], *, restricted: bool) -> tuple[str, dict[str, Any]]:
    """The sentence staff read for an entry, and its details as shown (recipient hidden if restricted)."""
    if restricted and details.get("recipient"):
        details = {**details, "recipient": HIDDEN}
    describe = _DESCRIBE.get(kind)
    return (describe(details) if describe else kind.replace("_", " ").capitalize()), details


def _year(academic_year: int) -> str:
    return f"{academic_year}/{(academic_year + 1) % 100:02d}"


def _message(d: dict[str, Any]) -> str:
    return MESSAGE_NAMES.get(d.get("message", ""), "Message")


def _scheduled(d: dict[str, Any]) -> str:
    when = f"for {readable_iso(str(d['due_at']))}" if d.get("due_at") else "to go out once clinic dates are set"
    return f"Clinic {d['kind']} invitation for {programme_names(d['programmes'])} scheduled {when}"


def _vaccination(d: dict[str, Any]) -> str:
    name = programme_names([d["programme"]])
    if d["outcome"] == "vaccinated":
        return f"Vaccinated for {name}, recorded by {d['recorded_by']}"
    return f"Not vaccinated for {name}: {d.get('reason') or 'no reason given'}, recorded by {d['recorded_by']}"


_DESCRIBE: dict[str, Callable[[dict[str, Any]], str]] = {
    JOINED: lambda d: (
        f"Joined the community clinic cohort for {programme_names(d['programmes'])}"
        f" ({_year(d['academic_year'])}): {JOIN_REASONS.get(d['reason'], d['reason'])}"
    ),
    "invitation_requested": lambda d: (
        f"Clinic subsequent invitation requested for {programme_names(d['programmes'])} by {d['requested_by']}"
    ),
    SCHEDULED: _scheduled,
    "invitation_cancelled": lambda d: (
        f"Clinic invitation for {programme_names(d['programmes'])} cancelled: {d['reason']}"
    ),
    "notification_sent": lambda d: f"{_message(d)} sent by {d['channel']} to {d['recipient']}",
    "notification_delivered": lambda d: f"{_message(d)} delivered by {d['channel']}",
    "notification_failed": lambda d: f"{_message(d)} by {d['channel']} failed ({d['status']})",
    "notification_cancelled": lambda d: f"{_message(d)} by {d['channel']} cancelled: {d['reason']}",
    "consent_requested": lambda d: f"Consent requested for {programme_names(d['programmes'])} by {d['requested_by']}",
    "consent_recorded": lambda d: (
        f"Consent {d['response']} for {programme_names([d['programme']])}"
        f" ({d['route'].replace('_', ' ')}), recorded by {d['recorded_by']}"
    ),
    "vaccination_recorded": _vaccination,
    **import_activity.DESCRIBE,
}
