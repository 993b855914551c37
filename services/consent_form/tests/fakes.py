"""What the consent form's tests answer in place of the consent and sessions services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from consent_form.gateway import Refused
from contracts.common import Programme
from contracts.consent import (
    ConsentFormAnswers,
    ConsentFormReceipt,
    ConsentFormView,
    FormProgramme,
    HealthQuestion,
    LinkKind,
    VaccineMethod,
)

REQUEST_TOKEN = "req.abc123"
OTHER_TOKEN = "req.other456"
TEAM_TOKEN = "team.xyz789"
EXPIRED_TOKEN = "req.expired"
SCHOOLS = {"100001": "Hill Top Primary", "100002": "Riverside Academy"}


def flu() -> FormProgramme:
    return FormProgramme(
        programme=Programme.FLU,
        vaccine_methods=[VaccineMethod.NASAL, VaccineMethod.INJECTION],
        health_questions=[
            HealthQuestion(question_id="asthma", question="Has your child been diagnosed with asthma?"),
            HealthQuestion(
                question_id="allergy", question="Does your child have a severe allergy?", hint="Such as to eggs"
            ),
        ],
    )


def hpv() -> FormProgramme:
    return FormProgramme(
        programme=Programme.HPV,
        vaccine_methods=[VaccineMethod.INJECTION],
        health_questions=[HealthQuestion(question_id="bleeding", question="Does your child have a bleeding disorder?")],
    )


def make_view(
    *, kind: LinkKind = LinkKind.REQUEST, programmes: list[FormProgramme] | None = None, child: str = "Ada"
) -> ConsentFormView:
    return ConsentFormView(
        link_kind=kind,
        team_ods="RYG",
        team_name="Leeds Community Vaccinations",
        team_email="vaccinations@example.nhs.uk",
        team_phone="0113 496 0000",
        academic_year=2026,
        programmes=programmes or [flu()],
        child_first_name=child if kind is LinkKind.REQUEST else None,
        child_last_name="Lovelace" if kind is LinkKind.REQUEST else None,
        closes_on=date(2027, 3, 1),
    )


@dataclass
class FakeGateway:
    """Answers as the contract says: views by token, receipts once per response_id."""

    views: dict[str, ConsentFormView] = field(default_factory=dict)
    submitted: dict[uuid.UUID, ConsentFormAnswers] = field(default_factory=dict)
    submissions: int = 0

    async def open_form(self, token: str) -> ConsentFormView:
        if token == EXPIRED_TOKEN:
            raise Refused("link_expired")
        if token not in self.views:
            raise Refused("link_invalid")
        return self.views[token]

    async def submit(self, token: str, response_id: uuid.UUID, form: ConsentFormAnswers) -> ConsentFormReceipt:
        await self.open_form(token)
        self.submissions += 1
        repeated = response_id in self.submitted
        self.submitted.setdefault(response_id, form)
        needs_triage = any(h.answer for a in form.answers for h in a.health_answers)
        return ConsentFormReceipt(response_id=response_id, matched=True, needs_triage=needs_triage, repeated=repeated)

    async def schools(self, team_ods: str) -> dict[str, str]:
        return dict(SCHOOLS)
