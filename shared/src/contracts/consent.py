"""Messages the consent service publishes, and the requests it answers."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from contracts import consent_form as form
from contracts.cohort import ParentContact
from contracts.common import (
    CONTROL_CHARACTERS,
    AcademicYear,
    Actor,
    MessageKind,
    NoControlCharacters,
    OdsCode,
    PersonName,
    Programme,
    Programmes,
    ShortText,
    Urn,
)
from contracts.envelope import Command, Event, Query

# The form's value types are part of this contract; they live in contracts.consent_form to keep files short.
ConsentResponse = form.ConsentResponse
ParentText = form.ParentText
VaccineMethod = form.VaccineMethod
RefusalReason = form.RefusalReason
EducationSetting = form.EducationSetting
ParentRelationship = form.ParentRelationship
HealthAnswer = form.HealthAnswer
ProgrammeAnswer = form.ProgrammeAnswer
Address = form.Address
ConsentFormAnswers = form.ConsentFormAnswers
LinkKind = form.LinkKind
HealthQuestion = form.HealthQuestion
FormProgramme = form.FormProgramme
ConsentFormView = form.ConsentFormView
ConsentFormReceipt = form.ConsentFormReceipt
MessageRecipient = form.MessageRecipient

# The link to the online consent form in a consent request: CONSENT_FORM_URL and the signed token.
# One pattern, so that the schema states the whole rule: an http(s) URL with no control character.
FORM_URL_PATTERN = f"^https?://[^{CONTROL_CHARACTERS}]*$"
FormUrl = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=FORM_URL_PATTERN)]
# A signed consent-form link token (consent makes and checks them; nobody else can read one).
LinkToken = Annotated[str, StringConstraints(min_length=1, max_length=200), NoControlCharacters]


class ConsentStatus(StrEnum):
    NO_RESPONSE = "no_response"
    GIVEN = "given"
    REFUSED = "refused"
    CONFLICTING = "conflicting"
    # A parent refused but asked to talk it through with the team, and no parent refused outright.
    FOLLOW_UP_REQUESTED = "follow_up_requested"


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
    # Issue 20. A consent request carries its form link (consent signs it; notify puts it in the message).
    consent_form_url: FormUrl | None = None
    # A confirmation of an online response goes to the contact details given on the form, not to the
    # parents on record; then the child's name is as the parent typed it, and for a response not matched
    # to a child yet, `child_id` is the response's id (notify keys its log by it; no child has that id).
    recipient: MessageRecipient | None = None
    child_first_name: PersonName | None = None
    child_last_name: PersonName | None = None
    parent_name: PersonName | None = None
    follow_up_requested: bool = False  # a refusal: the parent asked the team to get in touch


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


# --- the online consent form (issue 20; its value types are in contracts.consent_form) ---------


# Failure codes of OpenConsentForm and SubmitConsentForm (stable: the form service branches on them).
LINK_INVALID = "link_invalid"  # not a token consent signed (tampered, made up, or its request is unknown)
LINK_EXPIRED = "link_expired"  # the consent window closed (the day before the last clinic date has passed)
FORM_INVALID = "form_invalid"  # answers that do not fit the link (a programme it does not ask about, ...)
RESPONSE_CONFLICT = "response_conflict"  # this response_id was used before with another link


class OpenConsentForm(Query):
    """Sent by the consent form service when a parent follows a link: what may that link's holder see?

    Answered with `contracts.consent_form.ConsentFormView`, or fails with `link_invalid` or `link_expired`.
    """

    token: LinkToken


class SubmitConsentForm(Command):
    """Sent by the consent form service: record a parent's answers, once per `response_id`.

    Answered with `contracts.consent_form.ConsentFormReceipt` (`repeated` when this response_id was recorded
    before: nothing new is recorded), or fails with `link_invalid`, `link_expired`, `form_invalid` or
    `response_conflict`.
    """

    token: LinkToken
    response_id: uuid.UUID
    form: ConsentFormAnswers


class ListConsentResponses(Query):
    """Staff: a team's online responses, oldest first (by default only those not matched to a child).

    Replies `{"team_ods", "page", "page_size", "total", "responses": [...]}`; each response has its
    `response_id`, `submitted_at`, `state` (unmatched, creating, matched, archived), `child_id`, `child_name`,
    `date_of_birth`, `postcode`, `parent_name`, `needs_triage` and `answers` ({programme: response}).
    """

    team_ods: OdsCode
    unmatched_only: bool = True
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=50, ge=1, le=500)


class GetConsentResponse(Query):
    """Staff: one online response as the parent gave it, and what became of it.

    Replies a ListConsentResponses item with `form` (the ConsentFormAnswers), `decided_by`, `decided_at` and
    `notes`; fails `not_found`.
    """

    response_id: uuid.UUID


class MatchConsentResponse(Command):
    """Staff: this unmatched online response is about this child (its answers are recorded for them).

    Replies `{"response_id", "state", "child_id", "duplicate"}`; fails `not_found`, `not_unmatched` or
    `wrong_team` (the child is not one of the response's team).
    """

    response_id: uuid.UUID
    child_id: uuid.UUID
    matched_by: Actor


class CreateChildFromConsentResponse(Command):
    """Staff: no child of the team is the one this response is about; add them from its details.

    Consent asks cohort (AddChildFromConsentResponse) and replies as MatchConsentResponse with state
    `creating`; the response is matched when the child arrives.
    """

    response_id: uuid.UUID
    created_by: Actor


class ArchiveConsentResponse(Command):
    """Staff: set an unmatched response aside, saying why (replies as MatchConsentResponse)."""

    response_id: uuid.UUID
    notes: ShortText
    archived_by: Actor


class GetTeamConsentLink(Query):
    """Staff: the team's generic consent-form link (for posters and adverts: no child in it).

    Replies `{"team_ods", "academic_year", "programmes", "url", "token"}`; fails `not_found` for a team
    consent has not heard of.
    """

    team_ods: OdsCode
    academic_year: AcademicYear | None = None


class AddChildFromConsentResponse(Command):
    """Sent by consent to cohort: staff found no child of the team for an online response; add this one.

    Cohort adds the child (once per `child_id`) with the responding parent, joins them to the team's clinic
    cohort for `programmes`, and announces them in ChildrenUpserted, which matches the response.
    """

    child_id: uuid.UUID
    response_id: uuid.UUID
    team_ods: OdsCode
    first_name: PersonName
    last_name: PersonName
    date_of_birth: date
    postcode: str | None = None
    school_urn: Urn
    parent: ParentContact
    programmes: Programmes
    academic_year: AcademicYear
    created_by: Actor
