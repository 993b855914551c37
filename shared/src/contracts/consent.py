"""Messages the consent service publishes, and the requests it answers."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import AwareDatetime

from contracts.common import AcademicYear, Actor, MessageKind, OdsCode, Programme, Programmes
from contracts.envelope import Command, Event, Query


class ConsentResponse(StrEnum):
    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class ConsentStatus(StrEnum):
    NO_RESPONSE = "no_response"
    GIVEN = "given"
    REFUSED = "refused"
    CONFLICTING = "conflicting"


class ConsentRoute(StrEnum):
    WEBSITE = "website"
    PHONE = "phone"
    PAPER = "paper"
    IN_PERSON = "in_person"
    IN_PERSON_IMPLIED = "in_person_implied"


class ConsentRecorded(Event):
    """Published by consent when a response is recorded, with the child's resulting status."""

    consent_id: uuid.UUID
    child_id: uuid.UUID
    team_ods: OdsCode
    programme: Programme
    academic_year: AcademicYear
    response: ConsentResponse
    route: ConsentRoute
    parent_id: uuid.UUID | None = None
    recorded_by: Actor
    recorded_at: AwareDatetime
    status: ConsentStatus


class ConsentRequested(Event):
    """Published by consent when staff send a consent request to a child's parents."""

    child_id: uuid.UUID
    team_ods: OdsCode
    programmes: Programmes
    academic_year: AcademicYear
    requested_by: Actor


class SendParentMessage(Command):
    """Sent by consent to notify: send a consent request or confirmation to a child's parents now."""

    child_id: uuid.UUID
    team_ods: OdsCode
    kind: MessageKind
    programmes: Programmes
    academic_year: AcademicYear
    parent_id: uuid.UUID | None = None
    sms: bool = True
    requested_by: Actor


class SendConsentRequest(Command):
    """Staff's *Send consent request* for a clinic child (allowed while the consent window is open)."""

    child_id: uuid.UUID
    team_ods: OdsCode
    programmes: Programmes
    requested_by: Actor
    academic_year: AcademicYear | None = None  # default: the current academic year (Europe/London)


class RecordConsent(Command):
    """Record a response taken by phone, on paper or in person."""

    consent_id: uuid.UUID | None = None
    child_id: uuid.UUID
    team_ods: OdsCode
    programme: Programme
    response: ConsentResponse
    route: ConsentRoute
    parent_id: uuid.UUID | None = None
    recorded_by: Actor
    academic_year: AcademicYear | None = None  # default: the current academic year (Europe/London)


class GetConsentStatus(Query):
    """Consent status of a child for each programme."""

    child_id: uuid.UUID
