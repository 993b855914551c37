"""A parent in the machine's Chromium (Playwright drives it; it cannot download one here), with axe-core."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[4]
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / "services" / "consent_form" / "node_modules" / "axe-core" / "axe.min.js"


def missing() -> str | None:
    """Why a browser test cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)"
    if not AXE.exists():
        return "axe-core is not installed (make assets)"
    return None


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium refuses its sandbox.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"] if sys.platform == "linux" else [])
        try:
            yield browser
        finally:
            browser.close()


WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map(v => `${v.id}: ${v.help} at ${v.nodes.map(n => n.target.join(" ")).join(", ")}`);
}"""


class Parent:
    """Fills each page as a parent would, and (with JavaScript on) has axe-core check each one."""

    def __init__(self, page: Page, *, axe: bool) -> None:
        self.page = page
        self.axe = axe
        self.violations: dict[str, list[str]] = {}
        self.csp_refusals: list[str] = []
        page.on("console", lambda m: self.csp_refusals.append(m.text) if "Content Security Policy" in m.text else None)

    def check_page(self) -> None:
        if not self.axe:
            return
        if not self.page.evaluate("typeof axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text())
        found = self.page.evaluate(AXE_RUN, WCAG_22_AA)
        if found:
            self.violations[self.page.url] = found

    def continue_(self) -> None:
        self.page.get_by_role("button", name="Continue").click()
        self.check_page()

    def choose(self, name: str, value: str) -> None:
        self.page.locator(f'input[name="{name}"][value="{value}"]').check()

    def fill(self, fields: dict[str, str]) -> None:
        for name, value in fields.items():
            self.page.locator(f'[name="{name}"]').fill(value)

    def start(self, url: str) -> None:
        self.page.goto(url)
        self.check_page()
        self.page.get_by_role("button", name="Start now").click()
        self.check_page()

    def about_the_child(self) -> None:
        self.fill({"first_name": "Ada", "last_name": "O’Brien"})
        self.choose("use_preferred", "yes")
        self.fill({"preferred_name": "Addie 🌟"})
        self.continue_()
        self.fill({"dob-day": "10", "dob-month": "12", "dob-year": "2015"})
        self.continue_()
        self.choose("education", "school")
        self.page.locator('select[name="school_urn"]').select_option("100002")
        self.continue_()

    def about_me(self) -> None:
        self.fill({"parent_name": "محمد علي"})
        self.choose("relationship", "guardian")
        self.continue_()
        self.fill({"email": "parent@example.com", "phone": "07700 900982"})
        self.page.locator('input[name="text_updates"]').check()
        self.continue_()
