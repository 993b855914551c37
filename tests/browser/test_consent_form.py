"""A parent's whole journey in a real browser, with JavaScript on (axe-core checking every page) and off."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from testkit.browser import Parent
from testkit.form_responder import REQUEST_TOKEN, TEAM_TOKEN, Responder

pytestmark = pytest.mark.e2e
# `SCREENSHOT_DIR=docs/images` refreshes the README's picture; a plain run leaves the checkout as it was.
SCREENSHOT = Path(os.environ.get("SCREENSHOT_DIR") or tempfile.gettempdir()) / "consent-form.png"


def test_a_parent_answers_from_the_link_with_javascript_on_and_every_page_passes_axe(
    browser: Browser, form_url: str, responder: Responder
) -> None:
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    parent = Parent(context.new_page(), axe=True)
    parent.start(f"{form_url}/consent/{REQUEST_TOKEN}")
    parent.page.get_by_role("button", name="Continue").click()  # nothing filled in: the error summary
    parent.check_page()
    assert parent.page.locator(".nhsuk-error-summary").is_visible()
    parent.about_the_child()
    parent.about_me()
    parent.choose("response-flu", "nasal")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    parent.page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000  # a page was drawn, not a blank
    parent.continue_()
    parent.choose("response-hpv", "yes")
    parent.continue_()
    parent.fill({"address_line_1": "1 Hill Street", "town": "Leeds", "postcode": "ls1 4ap"})
    parent.continue_()
    parent.choose("health-flu-asthma", "no")
    parent.choose("health-flu-allergy", "yes")
    parent.fill({"health-flu-allergy-details": "Eggs <b>really</b>"})
    parent.continue_()
    parent.choose("health-hpv-bleeding", "no")
    parent.continue_()
    assert "O’Brien" in parent.page.content() and "Riverside Academy" in parent.page.content()
    before = len(responder.recorded)
    parent.page.get_by_role("button", name="Confirm").click()
    parent.check_page()

    assert parent.page.get_by_role("heading", name="Consent confirmed").is_visible()
    assert len(responder.recorded) == before + 1
    assert parent.violations == {}, "\n".join(f"{url}: {v}" for url, v in parent.violations.items())
    assert parent.csp_refusals == []
    context.close()


def test_a_parent_refuses_with_javascript_off_and_a_second_submit_records_nothing_more(
    browser: Browser, form_url: str, responder: Responder
) -> None:
    context = browser.new_context(java_script_enabled=False)
    parent = Parent(context.new_page(), axe=False)
    parent.start(f"{form_url}/consent/{TEAM_TOKEN}")
    parent.about_the_child()
    parent.about_me()
    parent.choose("response-flu", "no")
    parent.continue_()
    parent.choose("refusal_reason", "contains_gelatine")
    parent.continue_()
    parent.choose("follow_up", "yes")
    parent.continue_()
    before = len(responder.recorded)
    stale = context.new_page()  # the same answers open in a second tab, as after a back button
    stale.goto(parent.page.url)
    parent.page.get_by_role("button", name="Confirm").click()
    assert parent.page.get_by_role("heading", name="Consent refused").is_visible()
    stale.get_by_role("button", name="Confirm").click()

    assert stale.get_by_role("heading", name="Consent refused").is_visible()
    # Back from the confirmation: the answers are not offered again (pages are never cached).
    parent.page.go_back()
    assert parent.page.get_by_role("heading", name="Consent refused").is_visible()
    assert len(responder.recorded) == before + 1
    [command] = [c for c in responder.recorded.values() if c.token == TEAM_TOKEN]
    assert command.form.answers[0].follow_up_requested and command.form.child_last_name == "O’Brien"
    context.close()
