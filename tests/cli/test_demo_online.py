"""The demo's online parent without a broker or a form: reading pages, answering them, and the fallback."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, cast

import pytest

from clinics_cli import demo_consent
from clinics_cli.client import Client
from clinics_cli.demo_core import Demo
from clinics_cli.demo_online import FormProblem, Parent, form_link, host_of, read_page
from contracts import cohort, consent
from contracts.envelope import Message
from testkit import free_port

pytestmark = pytest.mark.unit

PARENT = Parent("Ella", "O'Brien", date(2016, 3, 4), "Sam O'Brien", "sam@example.com", "07700 900123", "LS1 4AP")
ROW = ["Ella", "O'Brien", "2016-03-04", "9434765919", "999999", "LS1 4AP", "Sam O'Brien", "Parent",
       "sam@example.com", "07700 900123"]  # fmt: skip


def test_a_page_gives_its_form_its_csrf_token_its_radio_groups_and_its_panel() -> None:
    page = read_page("""<form method="get" action="/search"><input type="hidden" name="q" value="x"></form>
        <form method="post" action="/consent/form/health-flu" novalidate>
          <input type="hidden" name="csrf_token" value="t0k&amp;en">
          <input type="radio" name="health-flu-asthma" value="yes">
          <input type="radio" name="health-flu-asthma" value="no">
          <input type="radio" name="health-flu-egg" value="no"><textarea name="health-flu-egg-details"></textarea>
        </form>
        <div class="nhsuk-panel"><h1 class="nhsuk-panel__title">Consent confirmed</h1>
          <div class="nhsuk-panel__body">Ella is due to get the
            flu vaccination.</div></div>""")
    assert page.action == "/consent/form/health-flu" and page.hidden == {"csrf_token": "t0k&en"}
    assert page.radios == ["health-flu-asthma", "health-flu-egg"]
    assert page.panel == ["Consent confirmed", "Ella is due to get the flu vaccination."]


def test_the_parent_says_no_to_every_health_question_and_knows_no_unexpected_page() -> None:
    assert PARENT.answers("health-flu", ["health-flu-asthma", "health-flu-egg"]) == {
        "health-flu-asthma": "no",
        "health-flu-egg": "no",
    }
    assert PARENT.answers("date-of-birth", []) == {"dob-day": "4", "dob-month": "3", "dob-year": "2016"}
    assert PARENT.answers("address", [])["postcode"] == "LS1 4AP"  # the postcode consent matches on
    with pytest.raises(FormProblem, match="reason"):
        PARENT.answers("reason", [])


def test_the_link_keeps_its_token_on_another_host_and_the_terminal_sees_only_the_host() -> None:
    link = form_link("http://localhost:8105/consent/c1.abc.def", "c1.abc.def", "http://127.0.0.1:9999/consent/")
    assert link == "http://127.0.0.1:9999/consent/c1.abc.def"
    own = "http://localhost:8105/consent/c1.abc.def"
    assert form_link(own, "c1.abc.def", None) == own
    assert host_of(link) == "http://127.0.0.1:9999"


class ServicesWithoutTheForm:
    """The four services, answering just enough for the online step; the form's link points at a closed port."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.port = free_port()

    async def ask(self, message: Message, *, timeout: float | None = None) -> dict[str, Any]:
        self.asked.append(type(message).__name__)
        if isinstance(message, cohort.FindChildren):
            return {"children": [{"child_id": str(uuid.uuid4())}]}
        if isinstance(message, cohort.GetActivityLog):
            sent = [{"kind": "notification_sent", "details": {"message": "consent_clinic_request", "channel": ch}}
                    for ch in ("email", "sms")]  # fmt: skip
            return {"entries": sent}
        if isinstance(message, consent.GetTeamConsentLink):
            return {"url": f"http://127.0.0.1:{self.port}/consent/c1.abc.def", "token": "c1.abc.def"}
        return {}


async def test_without_the_form_the_demo_says_so_in_one_line_and_the_nurse_phones_instead(
    capsys: pytest.CaptureFixture[str],
) -> None:
    services = ServicesWithoutTheForm()
    run = Demo(cast(Client, services), as_json=False)
    assert await demo_consent.consent_online(run, ROW, None) is False
    shown = capsys.readouterr().out
    [line] = [line for line in shown.splitlines() if "consent form" in line]
    assert f"127.0.0.1:{services.port} does not answer as expected (ConnectError" in line and "c1." not in line
    assert run.report["online_consent"]["answered"] is False
    assert services.asked == ["FindChildren", "SendConsentRequest", "GetActivityLog", "GetTeamConsentLink"]
