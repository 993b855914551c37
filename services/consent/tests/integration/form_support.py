"""Helpers of the online consent form tests: a team, a request link, a form as a parent fills it in."""

from __future__ import annotations

from datetime import date
from typing import Any

from consent import tables
from contracts.common import Programme
from contracts.consent import ConsentFormAnswers, SendConsentRequest
from contracts.sessions import TeamSettings, TeamUpdated

LAST_DATE = date(2026, 3, 20)  # the clock says 10 March 2026; the window closes on 19 March
BORN = date(2016, 4, 2)
POSTCODE = "LS1 4AP"


async def seed_team(harness: Any) -> None:
    settings = TeamSettings(
        ods_code=harness.team, name="Leeds SAIS", email="sais@example.nhs.uk", phone="0113 496 0000"
    )
    await harness.publish(TeamUpdated(team=settings))
    await harness.wait_rows(tables.teams, ods_code=harness.team)


async def setup(harness: Any, **child: Any) -> Any:
    """A team with a flu clinic, and a child of it (with one parent, parent@example.com)."""
    await seed_team(harness)
    await harness.seed_clinic(date(2026, 3, 12), LAST_DATE)
    return await harness.seed_child(**child)


async def request_token(harness: Any, child: Any, *programmes: Programme) -> str:
    """Send a consent request and take the link's token from the message consent asks notify to send."""
    command = SendConsentRequest(
        child_id=child.child_id,
        team_ods=child.team_ods,
        programmes=list(programmes or [Programme.FLU]),
        requested_by="nurse.jones",
    )
    reply = await harness.ask(command)
    assert reply.ok, reply.error
    messages = await harness.observer.wait_for("SendParentMessage", child.child_id)
    [url] = [m["consent_form_url"] for m in messages if m["kind"] == "consent_clinic_request"]
    return str(url).rsplit("/", 1)[1]


def flu(response: str = "given", **changes: Any) -> dict[str, Any]:
    if response == "given":
        return {"programme": "flu", "response": "given", "vaccine_methods": ["nasal", "injection"], **changes}
    return {"programme": "flu", "response": "refused", "refusal_reason": "personal_choice", **changes}


def form(*answers: dict[str, Any], **changes: Any) -> ConsentFormAnswers:
    base: dict[str, Any] = {
        "child_first_name": "Aoife",
        "child_last_name": "O’Brien",
        "child_date_of_birth": BORN,
        "education_setting": "home_educated",
        "parent_name": "Siobhan O’Brien",
        "relationship": "mum",
        "email": "parent@example.com",
        "phone": "07700900123",
        "text_updates": True,
        "address": {"line_1": "1 Park Row", "town": "Leeds", "postcode": POSTCODE},
        "answers": list(answers or [flu()]),
    }
    return ConsentFormAnswers.model_validate({**base, **changes})


def failed(reply: Any, code: str) -> None:
    assert not reply.ok and reply.error is not None, reply
    assert reply.error.code == code, reply.error
