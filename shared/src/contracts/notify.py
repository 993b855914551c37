"""Messages the notify service publishes, and the requests it answers."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.cohort import InvitationKind
from contracts.common import MAX_BATCH, AcademicYear, Channel, MessageKind, OdsCode, Programme, Programmes
from contracts.envelope import Event, Query


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"
    PERMANENT_FAILURE = "permanent-failure"
    TEMPORARY_FAILURE = "temporary-failure"
    TECHNICAL_FAILURE = "technical-failure"


class ScheduledInvitation(BaseModel):
    """One ledger entry notify scheduled (or is holding until clinic dates exist)."""

    model_config = ConfigDict(frozen=True)

    invitation_id: uuid.UUID
    child_id: uuid.UUID
    team_ods: OdsCode
    programmes: Programmes
    academic_year: AcademicYear
    kind: InvitationKind
    due_at: AwareDatetime | None


class InvitationsScheduled(Event):
    """Published by notify when invitations enter the ledger or are re-timed (batched)."""

    invitations: list[ScheduledInvitation] = Field(min_length=1, max_length=MAX_BATCH)


class InvitationCancelled(Event):
    """Published by notify when an unsent invitation is cancelled instead of sent, with why."""

    invitation_id: uuid.UUID
    child_id: uuid.UUID
    team_ods: OdsCode
    programmes: list[Programme]
    reason: str


class SentNotification(BaseModel):
    """One message to one parent on one channel that the provider accepted."""

    model_config = ConfigDict(frozen=True)

    notification_id: uuid.UUID
    invitation_id: uuid.UUID | None = None
    child_id: uuid.UUID
    parent_id: uuid.UUID | None = None
    team_ods: OdsCode
    kind: MessageKind
    channel: Channel
    recipient: str
    sent_at: AwareDatetime


class NotificationsSent(Event):
    """Published by notify when the provider accepted messages (batched: one event per batch of sends).

    Batched because the dispatcher sends a thousand a second: one event per send cost notify more
    CPU in publishing than in sending, and cohort a transaction per send.
    """

    notifications: list[SentNotification] = Field(min_length=1, max_length=MAX_BATCH)


class SettledNotification(BaseModel):
    """One message that reached a final status: delivered, or failed for good (with the status and why)."""

    model_config = ConfigDict(frozen=True)

    notification_id: uuid.UUID
    child_id: uuid.UUID
    kind: MessageKind
    channel: Channel
    status: DeliveryStatus
    reason: str | None = None
    settled_at: AwareDatetime


class NotificationsSettled(Event):
    """Published by notify when messages reach a final status (batched: one event per batch of receipts).

    It replaced an event per receipt (NotificationDelivered and NotificationFailed, now retired: see
    `contracts.retired.RETIRED`): GOV.UK Notify posts a receipt for every message, and an event each cost a broker
    message and a consumer transaction per receipt, at the rate the dispatcher sends.
    """

    notifications: list[SettledNotification] = Field(min_length=1, max_length=MAX_BATCH)


class NotificationCancelled(Event):
    """Published by notify when a message is cancelled instead of sent, because its purpose had gone, with why.

    Checked as the message is claimed for the provider: a consent response recorded, the child vaccinated,
    left the clinic cohort, or not to be contacted. A message the provider may already have is looked up first.
    """

    notification_id: uuid.UUID
    invitation_id: uuid.UUID | None = None
    child_id: uuid.UUID
    kind: MessageKind
    channel: Channel
    reason: str


class GetInvitationStatus(Query):
    """The invitations and messages of one child."""

    child_id: uuid.UUID
