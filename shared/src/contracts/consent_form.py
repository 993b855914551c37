"""The online consent form's value types: what a parent answers (the `form` of SubmitConsentForm), and what
the consent service answers the form (the `data` of OpenConsentForm's and SubmitConsentForm's replies).

Apart from `contracts.consent` so that its messages stay one page; `contracts.consent` re-exports every name
here, so either import works.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from contracts.common import AcademicYear, NoControlCharacters, OdsCode, PersonName, Programme, ShortText, Urn

# What a parent typed into a free-text box of the consent form (notes, details of a health answer).
ParentText = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
PhoneText = Annotated[str, StringConstraints(max_length=30), NoControlCharacters]


class ConsentResponse(StrEnum):
    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


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
    phone: PhoneText | None = None
    text_updates: bool = False
    address: Address | None = None
    answers: list[ProgrammeAnswer] = Field(min_length=1, max_length=5)


# --- reply data of the consent form's requests ---------------------------------------------------


class LinkKind(StrEnum):
    REQUEST = "request"  # from a consent request's email or text: one child
    TEAM = "team"  # the team's generic link (posters, adverts): no child, the response is matched


class HealthQuestion(_Value):
    """One health question of a programme's vaccine, asked on the form (a yes asks for details)."""

    question_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,60}$")]
    question: ShortText
    hint: ShortText | None = None


class FormProgramme(_Value):
    """A programme the form asks about: the methods a parent may choose and the vaccine's health questions."""

    programme: Programme
    vaccine_methods: list[VaccineMethod]
    health_questions: list[HealthQuestion]


class ConsentFormView(_Value):
    """Reply to OpenConsentForm: all the holder of the link may see (no more than its message said)."""

    link_kind: LinkKind
    team_ods: OdsCode
    team_name: ShortText
    team_email: ShortText | None = None
    team_phone: ShortText | None = None
    academic_year: AcademicYear
    programmes: list[FormProgramme] = Field(min_length=1)
    child_first_name: PersonName | None = None  # request links only
    child_last_name: PersonName | None = None
    closes_on: date  # the last day a response is taken (the day before the last clinic date)


class ConsentFormReceipt(_Value):
    """Reply to SubmitConsentForm (the same for a repeat of the same `response_id`)."""

    response_id: uuid.UUID
    matched: bool  # false: staff will match it to a child
    needs_triage: bool
    repeated: bool = False  # this response_id had been recorded before; nothing new was recorded


class MessageRecipient(_Value):
    """Contact details a message goes to instead of the child's parents on record: those given on the form."""

    email: EmailStr | None = None
    phone: PhoneText | None = None
