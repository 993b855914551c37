"""Rules of the online consent form without IO: which programmes a link still asks about, and answers that fit."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from consent import matching, questions
from consent.domain import ClinicWindow, closing_day
from consent.status import ConsentResponse, Response, Route
from contracts.consent import ConsentFormAnswers, ProgrammeAnswer

# Website response ids derive from the form's response_id and programme, so a repeat maps to the same rows.
WEBSITE_NAMESPACE = uuid.UUID("0b6c0c1e-6a53-4a43-9b0e-2d7f8e1c5a90")
# Children added by staff from a response get an id derived from it, so asking twice adds one child.
CREATED_CHILD_NAMESPACE = uuid.UUID("a4f3d6b2-81c4-4e59-9f0d-5c2b7e8a1d36")
RECORDED_BY = "online consent form"


@dataclass(frozen=True, slots=True)
class OpenProgrammes:
    programmes: tuple[str, ...]
    closes_on: date


def open_programmes(windows: Sequence[ClinicWindow], programmes: Iterable[str], today: date) -> OpenProgrammes | None:
    """The programmes whose consent window is still open today, and the last day of the latest; None if none."""
    days = {p: closing_day(windows, p) for p in programmes}
    still = {p: d for p, d in days.items() if d is not None and today <= d}
    if not still:
        return None
    return OpenProgrammes(tuple(still), max(still.values()))


def _answer_problem(answer: ProgrammeAnswer, offered: Sequence[str]) -> str | None:
    programme = answer.programme.value
    if programme not in offered:
        return f"this link does not ask about {programme}"
    if answer.response is Response.WITHDRAWN:
        return "a form gives or refuses consent"
    if answer.response is Response.GIVEN:
        methods = {m.value for m in answer.vaccine_methods}
        if not methods or not methods <= questions.methods_offered(programme):
            return f"choose how {programme} may be given"
        unknown = {h.question_id for h in answer.health_answers} - questions.question_ids(programme)
        if unknown:
            return f"unknown health questions for {programme}"
    elif answer.refusal_reason is None:
        return f"give a reason for refusing {programme}"
    return None


def form_problem(form: ConsentFormAnswers, offered: Sequence[str]) -> str | None:
    """Why these answers do not fit a link asking about `offered`, or None."""
    if len({a.programme for a in form.answers}) != len(form.answers):
        return "one answer per programme"
    if form.relationship.value == "other" and form.parental_responsibility is not True:
        return "only someone with parental responsibility can give consent"
    if form.text_updates and not form.phone:
        return "text updates need a phone number"
    if (form.education_setting.value == "school") != (form.school_urn is not None):
        return "a school URN goes with education setting school, and only with it"
    return next((p for a in form.answers if (p := _answer_problem(a, offered)) is not None), None)


def needs_triage(form: ConsentFormAnswers) -> bool:
    """Any health question answered yes on a consent: the team reviews it before vaccinating."""
    return any(h.answer for a in form.answers if a.response is Response.GIVEN for h in a.health_answers)


def match_key(form: ConsentFormAnswers) -> str | None:
    postcode = form.address.postcode if form.address else None
    return matching.child_key(form.child_first_name, form.child_last_name, form.child_date_of_birth, postcode)


def respondent_key(form: ConsentFormAnswers) -> str:
    """Who answered, when they are none of the child's parents on record: a key of their email address."""
    return matching.email_key(form.email) or "unknown"


def from_contact(
    form: ConsentFormAnswers, parents: Iterable[tuple[uuid.UUID, str | None, str | None]]
) -> uuid.UUID | None:
    """The parent on record with the form's email address or phone number, if any."""
    email, phone = matching.email_key(form.email), matching.phone_key(form.phone)
    for parent_id, email_key, phone_key in parents:
        if (email and email == email_key) or (phone and phone == phone_key):
            return parent_id
    return None


def website_responses(
    form: ConsentFormAnswers,
    *,
    response_id: uuid.UUID,
    child_id: uuid.UUID,
    team_ods: str,
    academic_year: int,
    parent_id: uuid.UUID | None,
    submitted_at: datetime,
) -> list[ConsentResponse]:
    """One consent response per programme answered, with route website."""
    return [
        ConsentResponse(
            consent_id=uuid.uuid5(WEBSITE_NAMESPACE, f"{response_id}:{a.programme.value}"),
            child_id=child_id,
            team_ods=team_ods,
            programme=a.programme.value,
            academic_year=academic_year,
            response=a.response,
            route=Route.WEBSITE,
            parent_id=parent_id,
            recorded_by=RECORDED_BY,
            recorded_at=submitted_at,
            vaccine_methods=tuple(m.value for m in a.vaccine_methods) if a.response is Response.GIVEN else (),
            follow_up_requested=a.response is Response.REFUSED and a.follow_up_requested,
            respondent=None if parent_id else respondent_key(form),
            form_response_id=response_id,
        )
        for a in form.answers
    ]
