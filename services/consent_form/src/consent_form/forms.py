"""Each page's form: what it accepts into the draft, or the errors the NHS.UK error summary lists."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

from consent_form import fields
from consent_form.fields import FieldError
from consent_form.steps import NOTES_REQUIRED
from contracts.consent import EducationSetting, ParentRelationship, RefusalReason, VaccineMethod
from contracts.consent_form import ConsentFormView
from contracts.phone import PhoneKind, parse_uk_phone

YES_NO = ("yes", "no")
NAME_TOO_LONG = "Name must be 300 characters or fewer"


@dataclass
class Checked:
    """The values a page's form gave, and its errors by field id (in page order)."""

    form: Mapping[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return str(self.form.get(name, ""))

    def take(self, name: str, check: Callable[[str], Any], *, error_id: str | None = None) -> Any:
        try:
            value = check(self.get(name))
        except FieldError as exc:
            self.errors[error_id or name] = str(exc)
            return None
        self.values[name] = value
        return value


@dataclass(frozen=True)
class Context:
    """What a page's checks may need beyond the form: the link's view, the team's schools, today."""

    view: ConsentFormView
    schools: Mapping[str, str]
    today: date


def name(c: Checked, ctx: Context) -> None:
    c.take("first_name", lambda v: fields.text(v, missing="Enter your child’s first name", too_long=NAME_TOO_LONG))
    c.take("last_name", lambda v: fields.text(v, missing="Enter your child’s last name", too_long=NAME_TOO_LONG))
    use = c.take(
        "use_preferred", lambda v: fields.choice(v, YES_NO, missing="Select whether they use a different name")
    )
    if use == "yes":
        missing = "Enter the name your child uses"
        c.take("preferred_name", lambda v: fields.text(v, missing=missing, too_long=NAME_TOO_LONG))


def date_of_birth(c: Checked, ctx: Context) -> None:
    try:
        born = fields.date_of_birth(c.get("dob-day"), c.get("dob-month"), c.get("dob-year"), today=ctx.today)
    except FieldError as exc:
        c.errors["dob-day"] = str(exc)
        return
    c.values.update({"dob": born.isoformat(), "dob-day": str(born.day), "dob-month": str(born.month)})
    c.values["dob-year"] = str(born.year)


def school(c: Checked, ctx: Context) -> None:
    settings = tuple(s.value for s in EducationSetting)
    setting = c.take("education", lambda v: fields.choice(v, settings, missing="Select where your child is educated"))
    if setting == EducationSetting.SCHOOL:
        c.take("school_urn", lambda v: fields.choice(v, frozenset(ctx.schools), missing="Select your child’s school"))


def parent(c: Checked, ctx: Context) -> None:
    c.take("parent_name", lambda v: fields.text(v, missing="Enter your full name", too_long=NAME_TOO_LONG))
    kinds = tuple(r.value for r in ParentRelationship)
    kind = c.take("relationship", lambda v: fields.choice(v, kinds, missing="Select your relationship to the child"))
    if kind == ParentRelationship.OTHER:
        missing = "Enter your relationship to the child"
        c.take("relationship_other", lambda v: fields.text(v, missing=missing, too_long=NAME_TOO_LONG))
        pr = "Select whether you have parental responsibility"
        c.take("responsibility", lambda v: fields.choice(v, YES_NO, missing=pr))


def contact(c: Checked, ctx: Context) -> None:
    c.take("email", fields.email)
    texts = c.get("text_updates") == "yes"
    c.values["text_updates"] = texts
    number = c.take("phone", lambda v: fields.phone(v, required=texts))
    if texts and number and (parsed := parse_uk_phone(number)) and parsed[1] is not PhoneKind.MOBILE:
        c.errors["phone"] = "Enter a mobile phone number to get updates by text message"


def response(programme: str) -> Callable[[Checked, Context], None]:
    def check(c: Checked, ctx: Context) -> None:
        key = f"response-{programme}"
        allowed = ("nasal", "injection", "no") if offers_nasal(ctx.view, programme) else YES_NO
        c.take(key, lambda v: fields.choice(v, allowed, missing="Select whether you agree"))

    return check


def offers_nasal(view: ConsentFormView, programme: str) -> bool:
    methods = next((p.vaccine_methods for p in view.programmes if p.programme == programme), [])
    return VaccineMethod.NASAL in methods and VaccineMethod.INJECTION in methods


def reason(c: Checked, ctx: Context) -> None:
    reasons = tuple(r.value for r in RefusalReason)
    c.take("refusal_reason", lambda v: fields.choice(v, reasons, missing="Choose a reason"))


def reason_notes(c: Checked, ctx: Context) -> None:
    too_long = "Details must be 1000 characters or fewer"
    c.take(
        "refusal_notes",
        lambda v: fields.text(v, missing="Enter details", too_long=too_long, limit=fields.NOTES_MAX, multiline=True),
    )


def follow_up(c: Checked, ctx: Context) -> None:
    c.take("follow_up", lambda v: fields.choice(v, YES_NO, missing="Select whether you would like to be contacted"))


def address(c: Checked, ctx: Context) -> None:
    too_long = "Address lines must be 300 characters or fewer"
    c.take("address_line_1", lambda v: fields.text(v, missing="Enter the first line of the address", too_long=too_long))
    c.take("address_line_2", lambda v: fields.optional_text(v, too_long=too_long))
    c.take("town", lambda v: fields.text(v, missing="Enter the town or city", too_long=too_long))
    c.take("postcode", fields.postcode)


def health(programme: str) -> Callable[[Checked, Context], None]:
    def check(c: Checked, ctx: Context) -> None:
        questions = next((p.health_questions for p in ctx.view.programmes if p.programme == programme), [])
        too_long = "Details must be 1000 characters or fewer"
        for q in questions:
            key = f"health-{programme}-{q.question_id}"
            answer = c.take(key, partial(fields.choice, allowed=YES_NO, missing=f"Answer: {q.question}"))
            if answer == "yes":
                c.take(
                    f"{key}-details",
                    lambda v: fields.text(
                        v, missing="Enter details", too_long=too_long, limit=fields.NOTES_MAX, multiline=True
                    ),
                )

    return check


STATIC_CHECKS: dict[str, Callable[[Checked, Context], None]] = {
    "name": name,
    "date-of-birth": date_of_birth,
    "school": school,
    "parent": parent,
    "contact": contact,
    "reason": reason,
    "reason-notes": reason_notes,
    "follow-up": follow_up,
    "address": address,
}


def check_step(step: str, form: Mapping[str, str], ctx: Context) -> Checked:
    checked = Checked(form)
    if step in STATIC_CHECKS:
        STATIC_CHECKS[step](checked, ctx)
    elif step.startswith("response-"):
        response(step.removeprefix("response-"))(checked, ctx)
    elif step.startswith("health-"):
        health(step.removeprefix("health-"))(checked, ctx)
    else:
        raise KeyError(step)
    return checked


def notes_required(reason_value: str | None) -> bool:
    return reason_value in NOTES_REQUIRED
