"""A finished draft as the contract's ConsentFormAnswers, and as the rows of *Check your answers*."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from consent_form import steps, wording
from contracts.consent import (
    Address,
    ConsentFormAnswers,
    ConsentResponse,
    HealthAnswer,
    ProgrammeAnswer,
    RefusalReason,
    VaccineMethod,
)
from contracts.consent_form import ConsentFormView, FormProgramme


def to_contract(view: ConsentFormView, a: dict[str, Any]) -> ConsentFormAnswers:
    """The answers the parent was asked (a changed answer's stale follow-ups are left out)."""
    asked = set(steps.steps_for(view, a))
    other = a.get("relationship") == "other"
    return ConsentFormAnswers(
        child_first_name=a["first_name"],
        child_last_name=a["last_name"],
        child_preferred_name=a.get("preferred_name") if a.get("use_preferred") == "yes" else None,
        child_date_of_birth=date.fromisoformat(a["dob"]),
        education_setting=a["education"],
        school_urn=a.get("school_urn") if a["education"] == "school" else None,
        parent_name=a["parent_name"],
        relationship=a["relationship"],
        relationship_other=a.get("relationship_other") if other else None,
        parental_responsibility=(a.get("responsibility") == "yes") if other else None,
        email=a["email"],
        phone=a.get("phone"),
        text_updates=bool(a.get("text_updates")),
        address=_address(a) if "address" in asked else None,
        answers=[_programme(p, a, asked) for p in view.programmes],
    )


def _address(a: dict[str, Any]) -> Address:
    return Address(line_1=a["address_line_1"], line_2=a.get("address_line_2"), town=a["town"], postcode=a["postcode"])


def _programme(p: FormProgramme, a: dict[str, Any], asked: set[str]) -> ProgrammeAnswer:
    choice = a[steps.response_step(p.programme)]
    if choice == "no":
        reason = RefusalReason(a["refusal_reason"])
        return ProgrammeAnswer(
            programme=p.programme,
            response=ConsentResponse.REFUSED,
            refusal_reason=reason,
            refusal_notes=a.get("refusal_notes") if "reason-notes" in asked else None,
            follow_up_requested="follow-up" in asked and a.get("follow_up") == "yes",
        )
    methods = {"nasal": [VaccineMethod.NASAL], "injection": [VaccineMethod.INJECTION]}.get(choice, p.vaccine_methods)
    return ProgrammeAnswer(
        programme=p.programme,
        response=ConsentResponse.GIVEN,
        vaccine_methods=methods,
        health_answers=[_health(p, q.question_id, q.question, a) for q in p.health_questions],
    )


def _health(p: FormProgramme, question_id: str, question: str, a: dict[str, Any]) -> HealthAnswer:
    key = f"health-{p.programme.value}-{question_id}"
    yes = a.get(key) == "yes"
    return HealthAnswer(
        question_id=question_id, question=question, answer=yes, details=a.get(f"{key}-details") if yes else None
    )


@dataclass(frozen=True)
class Row:
    """One line of *Check your answers*: what was asked, the answer (lines), and the page to change it."""

    key: str
    lines: list[str]
    step: str


def summary(view: ConsentFormView, a: dict[str, Any], schools: dict[str, str]) -> list[Row]:
    asked = steps.steps_for(view, a)
    rows = [
        Row("Child’s name", [f"{a['first_name']} {a['last_name']}"], "name"),
        Row("Known as", [a["preferred_name"] if a.get("use_preferred") == "yes" else "Not given"], "name"),
        Row("Date of birth", [wording.long_date(date.fromisoformat(a["dob"]))], "date-of-birth"),
        Row("Education", [_education(a, schools)], "school"),
        Row("Your name", [a["parent_name"]], "parent"),
        Row("Relationship", [_relationship(a)], "parent"),
        Row("Email address", [a["email"]], "contact"),
        Row("Phone number", [a.get("phone") or "Not given"], "contact"),
        Row("Text message updates", ["Yes" if a.get("text_updates") else "No"], "contact"),
    ]
    rows += [
        Row(
            f"Consent for {wording.programme_name(p.programme)}",
            [wording.choice_label(a[steps.response_step(p.programme)])],
            steps.response_step(p.programme),
        )
        for p in view.programmes
    ]
    rows += _refusal_rows(a, asked) + _given_rows(view, a, asked)
    return rows


def _refusal_rows(a: dict[str, Any], asked: list[str]) -> list[Row]:
    rows = []
    if "reason" in asked:
        rows.append(Row("Reason for refusal", [wording.REFUSAL_REASONS[a["refusal_reason"]]], "reason"))
    if "reason-notes" in asked:
        rows.append(Row("Details", a["refusal_notes"].split("\n"), "reason-notes"))
    if "follow-up" in asked:
        rows.append(Row("Contact me about alternatives", ["Yes" if a.get("follow_up") == "yes" else "No"], "follow-up"))
    return rows


def _given_rows(view: ConsentFormView, a: dict[str, Any], asked: list[str]) -> list[Row]:
    rows = []
    if "address" in asked:
        lines = [a["address_line_1"], a.get("address_line_2") or "", a["town"], a["postcode"]]
        rows.append(Row("Child’s address", [line for line in lines if line], "address"))
    for p in view.programmes:
        step = steps.health_step(p.programme)
        if step not in asked:
            continue
        for q in p.health_questions:
            key = f"health-{p.programme.value}-{q.question_id}"
            answer = ["Yes", *a.get(f"{key}-details", "").split("\n")] if a.get(key) == "yes" else ["No"]
            rows.append(Row(q.question, answer, step))
    return rows


def _education(a: dict[str, Any], schools: dict[str, str]) -> str:
    if a["education"] == "school":
        return schools.get(a.get("school_urn", ""), "A school")
    return "Home-schooled" if a["education"] == "home_educated" else "Not in education"


def _relationship(a: dict[str, Any]) -> str:
    if a["relationship"] == "other":
        return str(a.get("relationship_other", "Other"))
    return {"mum": "Mum", "dad": "Dad", "guardian": "Guardian"}[a["relationship"]]
