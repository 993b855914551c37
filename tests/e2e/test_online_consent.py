"""Issue 20 across the four services as processes: the consent request's email carries a link to the online
form; the parent's answers are recorded as website consent and confirmed by email; a team's generic link is
matched to the child, or left for staff to match with `clinics consent-responses`."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker

from clinics_admin.processes import ServiceProcess
from contracts.consent import ConsentFormAnswers, OpenConsentForm, SubmitConsentForm
from msgkit.clock import academic_year_of
from testkit import eventually
from testkit.stub import StubProcess

from .cli_support import Cli
from .support import ChildRow, ask, child, child_id, csv_text
from .test_cli import make_team
from .test_clinic_flow import new_team, seed, today

pytestmark = pytest.mark.e2e

GIVEN_EMAIL = "6587d3c9-1237-45ad-9178-2b1165bba66c"  # notify's consent_confirmation_given email template
UNKNOWN_CONTACT_EMAIL = "c3a8f1d2-5e6b-4c7d-a9e0-2f1b8d7c6e54"


@pytest.fixture
def cli(e2e_amqp_url: str, stack: dict[str, ServiceProcess]) -> Cli:
    return Cli(e2e_amqp_url)


def answers(row: ChildRow, **changes: Any) -> ConsentFormAnswers:
    base = {
        "child_first_name": row.first_name, "child_last_name": row.last_name, "child_date_of_birth": row.born,
        "education_setting": "home_educated", "parent_name": "Pat Parent", "relationship": "mum",
        "email": row.parent_email, "phone": row.parent_phone, "text_updates": False,
        "address": {"line_1": "1 Street", "town": "London", "postcode": "SW1A 1AA"},
        "answers": [{"programme": "flu", "response": "given", "vaccine_methods": ["nasal", "injection"]}],
    }  # fmt: skip
    return ConsentFormAnswers.model_validate({**base, **changes})


async def sent_to(stub: StubProcess, to: str, template_id: str | None = None) -> list[dict[str, Any]]:
    return [s for s in await stub.sent() if s["to"] == to and template_id in (None, s["template_id"])]


async def setup(cli: Cli, client: RabbitBroker, tmp_path: Path) -> tuple[str, ChildRow, uuid.UUID]:
    ods = new_team()
    await make_team(cli, ods)
    clinic_day = today() + timedelta(days=28)
    if academic_year_of(clinic_day) != academic_year_of(today()):
        pytest.skip("the clinic date is in the next academic year")
    (await cli("session", "clinic-dates", "--team", ods, "-p", "flu", "--date", str(clinic_day))).ok()
    row = child(seed(), "999999", last_name="O'Brien")
    cohort_file = tmp_path / "cohort.csv"
    cohort_file.write_text(csv_text([row]))
    (await cli("import-cohort", cohort_file, "--team", ods)).ok()
    return ods, row, await child_id(client, ods, row)


async def test_a_parent_answers_the_consent_request_online(
    cli: Cli, client: RabbitBroker, notify_stub: StubProcess, tmp_path: Path
) -> None:
    ods, row, kid = await setup(cli, client, tmp_path)
    email = row.parent_email or ""

    async def requested() -> bool:  # refused while consent has not yet heard of the child
        return (await cli("consent", "request", kid, "--team", ods, "-p", "flu", "--by", "Nurse Joy")).code == 0

    await eventually(requested, timeout=30, interval=0.5, what="the consent request accepted")

    async def link() -> str:
        links = [str(s["personalisation"].get("consent_form_link")) for s in await sent_to(notify_stub, email)]
        return next((url for url in links if url.startswith("http")), "")

    token = (await eventually(link, timeout=60, interval=0.5, what="the request email with its link")).rsplit("/", 1)[1]
    view = await ask(client, OpenConsentForm(token=token))
    assert (view["child_first_name"], view["child_last_name"], view["link_kind"]) == ("Alex", "O'Brien", "request")
    receipt = await ask(client, SubmitConsentForm(token=token, response_id=uuid.uuid4(), form=answers(row)))
    assert receipt["matched"] is True

    confirmed = await eventually(lambda: sent_to(notify_stub, email, GIVEN_EMAIL), timeout=60,
                                 what="the confirmation email")  # fmt: skip
    assert "child_first_name" in confirmed[0]["sanitise_content_for"]
    status = (await cli("consent", "status", kid, json=True)).ok().json()
    [flu] = [p for p in status["programmes"] if p["programme"] == "flu"]
    assert flu["status"] == "given" and flu["responses"][-1]["route"] == "website"


async def test_generic_link_responses_are_matched_or_left_for_staff(
    cli: Cli, client: RabbitBroker, notify_stub: StubProcess, tmp_path: Path
) -> None:
    ods, row, kid = await setup(cli, client, tmp_path)
    email = row.parent_email or ""
    typed = answers(row, child_last_name="o’brien", email="someone.else@example.com", phone=None,
                    address={"line_1": "1 Street", "town": "London", "postcode": "SW1A1AA"})  # fmt: skip

    async def known() -> bool:  # consent has the child once cohort's ChildrenUpserted has arrived
        return (await cli("consent", "status", kid)).code == 0

    await eventually(known, timeout=30, interval=0.5, what="consent to know the child")
    token = (await cli("consent", "link", "--team", ods, json=True)).ok().json()["token"]
    receipt = await ask(client, SubmitConsentForm(token=token, response_id=uuid.uuid4(), form=typed))
    assert receipt["matched"] is True
    # The response came from contact details the child's parent on record does not have: they are told.
    await eventually(lambda: sent_to(notify_stub, email, UNKNOWN_CONTACT_EMAIL), timeout=60,
                     what="the unknown contact details warning")  # fmt: skip

    stranger = answers(row, child_date_of_birth=row.born + timedelta(days=1))
    unmatched = await ask(client, SubmitConsentForm(token=token, response_id=uuid.uuid4(), form=stranger))
    assert unmatched["matched"] is False
    listed = (await cli("consent-responses", "list", "--team", ods, "--unmatched", json=True)).ok().json()
    [waiting] = [r["response_id"] for r in listed["responses"]]
    assert waiting == unmatched["response_id"]
    (await cli("consent-responses", "match", waiting, kid, "--by", "Nurse Joy")).ok()
    again = (await cli("consent-responses", "list", "--team", ods, "--unmatched", json=True)).ok().json()
    assert again["responses"] == []
