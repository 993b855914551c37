"""Issue 20 as a parent meets it: the link in the consent request email, followed in Chromium to the consent
form (a real process, as its own broker user), answered page by page, recorded by the consent service and
confirmed by email through the Notify stub; staff then see "given" by website."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from clinics_admin.processes import ServiceProcess
from msgkit.failover import FailoverBroker
from testkit import eventually
from testkit.browser import Parent, chromium, missing
from testkit.stub import StubProcess

from .cli_support import Cli
from .support import ChildRow
from .test_online_consent import GIVEN_EMAIL, sent_to, setup

pytestmark = pytest.mark.e2e
T = TypeVar("T")


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Async work from this synchronous test (Playwright's sync API refuses to run inside an event loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work()).result()  # type: ignore[arg-type]


@pytest.fixture
def form(consent_form: ServiceProcess) -> ServiceProcess:
    if why := missing():
        pytest.skip(why)
    return consent_form


async def requested_link(amqp_url: str, stub: StubProcess, tmp_path: Path) -> tuple[str, ChildRow, str]:
    """A team, a home-educated child, and staff's consent request: the link the parent's email carries."""
    cli = Cli(amqp_url)
    client = FailoverBroker(amqp_url, log_level=30)
    await client.connect()
    try:
        ods, row, kid = await setup(cli, client, tmp_path)
    finally:
        await client.stop()

    async def requested() -> bool:  # refused while consent has not yet heard of the child
        return (await cli("consent", "request", kid, "--team", ods, "-p", "flu", "--by", "Nurse Joy")).code == 0

    await eventually(requested, timeout=30, interval=0.5, what="the consent request accepted")

    async def link() -> str:
        sent = await sent_to(stub, row.parent_email or "")
        return next((str(s["personalisation"]["consent_form_link"]) for s in sent if "consent_form_link" in
                     s["personalisation"]), "")  # fmt: skip

    return await eventually(link, timeout=60, interval=0.5, what="the request email with its link"), row, str(kid)


def test_a_parent_follows_the_emailed_link_and_consents_in_the_browser(
    e2e_amqp_url: str, notify_stub: StubProcess, form: ServiceProcess, tmp_path: Path
) -> None:
    link, row, kid = run(lambda: requested_link(e2e_amqp_url, notify_stub, tmp_path))
    token = link.rsplit("/", 1)[1]
    with chromium() as browser:
        parent = Parent(browser.new_context().new_page(), axe=True)
        parent.page.goto(f"{form.base_url}/consent/{token}")  # the link's host is the deployment's; the path is ours
        parent.check_page()
        assert row.first_name in parent.page.inner_text("main")  # the request's child, and nothing more
        parent.page.get_by_role("button", name="Start now").click()
        answer_as_the_parent(parent, row)
        parent.page.get_by_role("button", name="Confirm").click()
        parent.check_page()
        assert parent.page.get_by_role("heading", name="Consent confirmed").is_visible()
        assert parent.violations == {}, parent.violations
    email = row.parent_email or ""
    confirmed: list[dict[str, Any]] = run(lambda: eventually(lambda: sent_to(notify_stub, email, GIVEN_EMAIL),
                                                             timeout=60, what="the confirmation email"))  # fmt: skip
    assert confirmed[0]["personalisation"]["child_first_name"] == "Alex"
    status = run(lambda: Cli(e2e_amqp_url)("consent", "status", kid, json=True)).ok().json()
    [flu] = [p for p in status["programmes"] if p["programme"] == "flu"]
    assert flu["status"] == "given" and flu["responses"][-1]["route"] == "website"


def answer_as_the_parent(parent: Parent, row: ChildRow) -> None:
    page = parent.page
    parent.fill({"first_name": row.first_name, "last_name": row.last_name})
    parent.choose("use_preferred", "no")
    parent.continue_()
    parent.fill({"dob-day": str(row.born.day), "dob-month": str(row.born.month), "dob-year": str(row.born.year)})
    parent.continue_()
    parent.choose("education", "home_educated")
    parent.continue_()
    parent.fill({"parent_name": "Pat Parent"})
    parent.choose("relationship", "mum")
    parent.continue_()
    parent.fill({"email": row.parent_email or "", "phone": ""})
    parent.continue_()
    parent.choose("response-flu", "nasal")
    parent.continue_()
    parent.fill({"address_line_1": "1 Street", "town": "London", "postcode": "SW1A 1AA"})
    parent.continue_()
    for _ in range(5):  # the flu health questions, however many pages: "no" to each
        radios = page.locator('input[type="radio"][value="no"]')
        if radios.count() == 0:
            break
        for i in range(radios.count()):
            radios.nth(i).check()
        parent.continue_()
    assert page.get_by_role("button", name="Confirm").is_visible(), page.content()[:2000]


def test_a_link_for_another_request_is_refused(form: ServiceProcess) -> None:
    with chromium() as browser:
        page = browser.new_page()
        response = page.goto(f"{form.base_url}/consent/c1.{uuid.uuid4().hex}.forged")
        assert response is not None and response.status == 404
