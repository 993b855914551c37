"""What the consent service answers the online consent form (the `data` of OpenConsentForm's and
SubmitConsentForm's replies): apart from `contracts.consent` so that its messages stay one page."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.common import AcademicYear, OdsCode, PersonName, Programme, ShortText
from contracts.consent import VaccineMethod


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True)


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
