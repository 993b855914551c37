"""Messages the consent service publishes, and the requests it answers."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from contracts.common import (
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

# What a parent typed into a free-text box of the consent form (notes, details of a health answer).
ParentText = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
# A signed consent-form link token (consent makes and checks them; nobody else can read one).
LinkToken = Annotated[str, StringConstraints(min_length=1, max_length=200), NoControlCharacters]


class ConsentResponse(StrEnum):
    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


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


# --- the online consent form (issue 20) --------------------------------------------------------


class VaccineMethod(StrEnum):
    NASAL = "nasal"
    INJECTION = "injection"


class RefusalReason(StrEnum):
    CONTAINS_GELATINE = "contains_gelatine"
    ALREADY_VACCINATED = "already_vaccinated"
    WILL_BE_VACCINATED_ELSEWHERE = "will_be_vaccinated_elsewhere"
    MEDICAL_REASONS = "medical_reasons"
    PERSONAL_CHOICE = "personal_choice"
    OTHER = "other"


class EducationSetting(StrEnum):
    SCHOOL = "school"
    HOME_EDUCATED = "home_educated"
    NONE = "none"


class ParentRelationship(StrEnum):
    MUM = "mum"
    DAD = "dad"
    GUARDIAN = "guardian"
    OTHER = "other"


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True)


class HealthAnswer(_Value):
    """A parent's answer to one health question of a vaccine, with the details they gave on a yes."""

    question_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,60}$")]
    question: ShortText
    answer: bool
    details: ParentText | None = None


class ProgrammeAnswer(_Value):
    """A parent's answer for one programme: given (by which methods) or refused (why, and a follow-up?)."""

    programme: Programme
    response: ConsentResponse
    # Given: the methods the parent agrees to (flu: nasal, nasal and injection as its alternative, or
    # injection only); the other programmes' vaccines are injected.
    vaccine_methods: list[VaccineMethod] = Field(default_factory=list, max_length=2)
    refusal_reason: RefusalReason | None = None
    refusal_notes: ParentText | None = None
    follow_up_requested: bool = False
    health_answers: list[HealthAnswer] = Field(default_factory=list, max_length=30)


class Address(_Value):
    line_1: Annotated[str, StringConstraints(min_length=1, max_length=300), NoControlCharacters]
    line_2: Annotated[str, StringConstraints(max_length=300), NoControlCharacters] | None = None
    town: Annotated[str, StringConstraints(min_length=1, max_length=300), NoControlCharacters]
    postcode: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9 ]{5,8}$")]


class ConsentFormAnswers(_Value):
    """Everything a parent submitted on the online consent form."""

    child_first_name: PersonName
    child_last_name: PersonName
    child_preferred_name: PersonName | None = None
    child_date_of_birth: date
    education_setting: EducationSetting
    school_urn: Urn | None = None
    parent_name: PersonName
    relationship: ParentRelationship
    relationship_other: PersonName | None = None
    parental_responsibility: bool | None = None
    email: EmailStr
    phone: Annotated[str, StringConstraints(max_length=30), NoControlCharacters] | None = None
    text_updates: bool = False
    address: Address | None = None
    answers: list[ProgrammeAnswer] = Field(min_length=1, max_length=5)


class OpenConsentForm(Query):
    """Sent by the consent form service when a parent follows a link: what may that link's holder see?

    Answered with `contracts.consent_form.ConsentFormView`.
    """

    token: LinkToken


class SubmitConsentForm(Command):
    """Sent by the consent form service: record a parent's answers, once per `response_id`.

    Answered with `contracts.consent_form.ConsentFormReceipt`.
    """

    token: LinkToken
    response_id: uuid.UUID
    form: ConsentFormAnswers


class ListConsentResponses(Query):
    """Staff: a team's online responses, oldest first (by default only those not matched to a child)."""

    team_ods: OdsCode
    unmatched_only: bool = True
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=50, ge=1, le=500)


class GetConsentResponse(Query):
    """Staff: one online response as the parent gave it, and what became of it."""

    response_id: uuid.UUID


class MatchConsentResponse(Command):
    """Staff: this unmatched online response is about this child."""

    response_id: uuid.UUID
    child_id: uuid.UUID
    matched_by: Actor


class CreateChildFromConsentResponse(Command):
    """Staff: no child of the team is the one this response is about; add them from its details."""

    response_id: uuid.UUID
    created_by: Actor


class ArchiveConsentResponse(Command):
    """Staff: set an unmatched response aside, saying why."""

    response_id: uuid.UUID
    notes: ShortText
    archived_by: Actor


class GetTeamConsentLink(Query):
    """Staff: the team's generic consent-form link (for posters and adverts: no child in it)."""

    team_ods: OdsCode
    academic_year: AcademicYear | None = None
