"""What the consent form's page tests answer in place of the consent and sessions services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from consent_form.gateway import Refused
from contracts.consent import ConsentFormAnswers
from contracts.consent_form import ConsentFormReceipt, ConsentFormView
from testkit.form_responder import (
    EXPIRED_TOKEN,
    OTHER_TOKEN,
    REQUEST_TOKEN,
    SCHOOLS,
    TEAM_TOKEN,
    flu,
    hpv,
    make_view,
)

__all__ = [
    "EXPIRED_TOKEN",
    "OTHER_TOKEN",
    "REQUEST_TOKEN",
    "SCHOOLS",
    "TEAM_TOKEN",
    "FakeGateway",
    "flu",
    "hpv",
    "make_view",
]


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
