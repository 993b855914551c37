"""`clinics demo` against the stack and the consent form: the whole flow, in the order it happened, with one
parent answering online (matched to the child, given by website) and another consenting by phone."""

from __future__ import annotations

import re
from typing import Any

import pytest

from clinics_admin.processes import ServiceProcess

from .cli_support import Cli

pytestmark = pytest.mark.e2e


@pytest.fixture
def cli(e2e_amqp_url: str, stack: dict[str, ServiceProcess]) -> Cli:
    return Cli(e2e_amqp_url)


async def test_the_demo_walks_the_whole_flow_and_shows_it_in_the_order_it_happened(
    cli: Cli, consent_form: ServiceProcess
) -> None:
    form_url = f"{consent_form.base_url}/consent"
    shown = (await cli("demo", "--form-url", form_url)).ok().stdout
    assert "invitations sent" in shown and "clinic_initial_invitation" in shown
    assert "activity log of child" in shown and "Vaccinated for Flu" in shown
    # The invitations due at import go out before the school session; the requests before the answers.
    steps = ["imported", "invitations sent", "school session", "consent request sent", "answers online",
             "Consent confirmed", "route website", "consent given by phone", "clinic today",
             "activity log of child"]  # fmt: skip
    at = [shown.find(step) for step in steps]
    assert -1 not in at and at == sorted(at), (dict(zip(steps, at, strict=True)), shown)
    assert "does not answer as expected" not in shown
    assert not re.search(r"c1\.[\w-]{10,}\.", shown)  # a link's token is a credential: not for the terminal

    report = (await cli("demo", "--form-url", form_url, json=True)).ok().json()
    online = report["online_consent"]
    assert online["answered"] and (online["status"], online["route"]) == ("given", "website")
    assert online["steps"][:2] == ["start", "name"] and online["steps"][-1] == "check-answers"
    status = (await cli("consent", "status", online["child_id"], json=True)).ok().json()
    [flu] = [p for p in status["programmes"] if p["programme"] == "flu"]
    assert flu["status"] == "given" and [r["route"] for r in flu["responses"]] == ["website"]
    assert_phone_consent_after_the_request(report)


def assert_phone_consent_after_the_request(report: dict[str, Any]) -> None:
    """As a nurse works: the consent request is sent on both channels, then consent is given by phone."""
    assert {s["channel"] for s in report["invitations_sent"]} == {"email", "sms"}
    entries = report["activity_log"]["entries"]
    kinds = [e["kind"] for e in entries]
    assert kinds[0] == "joined_clinic_cohort" and "vaccination_recorded" in kinds
    assert report["preview"]["will_invite"] == 2
    requests_sent = [
        i for i, e in enumerate(entries)
        if e["kind"] == "notification_sent" and e["details"]["message"] == "consent_clinic_request"
    ]  # fmt: skip
    (given,) = [i for i, e in enumerate(entries) if e["kind"] == "consent_recorded"]
    assert {entries[i]["details"]["channel"] for i in requests_sent} == {"email", "sms"}
    assert max(requests_sent) < given, [e["text"] for e in entries]
    assert entries[given]["details"]["route"] == "phone"
