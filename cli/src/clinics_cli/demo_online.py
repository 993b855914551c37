"""The demo's parent who answers online: the consent form walked page by page over HTTP, as a browser
without JavaScript walks it (GET a page, POST its form with the CSRF token the page carries).

The link in the consent request email is for the parent's eyes only: no staff query returns it. So the demo
parent uses the team's generic link (the one on posters: `clinics consent link`), and consent matches the
answer to the child on name, date of birth and postcode, as it does for any parent who comes that way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

FORM_STEPS = "/consent/form/"
MAX_PAGES = 20  # the journey has about a dozen; more means the demo is going round in circles
PAGE_TIMEOUT = 10.0


class FormProblem(Exception):
    """The form answered, but not as the journey expects (a page refused an answer, or no form on it)."""


@dataclass(frozen=True)
class Parent:
    """Who answers, for which child: what a parent types into the form."""

    first_name: str
    last_name: str
    born: date
    parent_name: str
    email: str
    phone: str
    postcode: str

    def answers(self, step: str, radios: list[str]) -> dict[str, str]:
        """The answers to one page: flu by nasal spray, home-educated, and "no" to every health question."""
        if step.startswith("health-"):
            return dict.fromkeys(radios, "no")
        born = self.born
        pages = {
            "start": {},
            "name": {"first_name": self.first_name, "last_name": self.last_name, "use_preferred": "no"},
            "date-of-birth": {"dob-day": str(born.day), "dob-month": str(born.month), "dob-year": str(born.year)},
            "school": {"education": "home_educated"},
            "parent": {"parent_name": self.parent_name, "relationship": "mum"},
            "contact": {"email": self.email, "phone": self.phone},
            "response-flu": {"response-flu": "nasal"},
            "address": {"address_line_1": "1 Park Row", "town": "Leeds", "postcode": self.postcode},
            "check-answers": {},
        }
        if step not in pages:
            raise FormProblem(f"the form asked a question the demo has no answer for ({step})")
        return pages[step]


@dataclass
class Page(HTMLParser):
    """What the demo reads from a page: its first POST form (action, hidden fields, radio groups) and the
    confirmation panel's title and text."""

    action: str | None = None
    hidden: dict[str, str] = field(default_factory=dict)
    radios: list[str] = field(default_factory=list)
    panel: list[str] = field(default_factory=list)
    _in_form: bool = False
    _in_panel: str | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post" and self.action is None:
            self.action, self._in_form = a.get("action", ""), True
        elif tag == "input" and self._in_form and a.get("name"):
            if a.get("type") == "hidden":
                self.hidden[a["name"]] = a.get("value", "")
            elif a.get("type") == "radio" and a["name"] not in self.radios:
                self.radios.append(a["name"])
        elif any(c.startswith("nhsuk-panel__") for c in a.get("class", "").split()):
            self._in_panel = tag

    def handle_endtag(self, tag: str) -> None:
        self._in_form = self._in_form and tag != "form"
        self._in_panel = None if tag == self._in_panel else self._in_panel

    def handle_data(self, data: str) -> None:
        if self._in_panel and data.strip():
            self.panel.append(" ".join(data.split()))


def read_page(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def step_of(url: httpx.URL) -> str:
    """The journey's name for a page: its step, or "start" for the link's own page."""
    path = url.path
    return path.removeprefix(FORM_STEPS) if path.startswith(FORM_STEPS) else "start"


def form_link(url: str, token: str, form_url: str | None) -> str:
    """The link as consent made it, or the same token on the form at `form_url` (when it is served elsewhere)."""
    return f"{form_url.rstrip('/')}/{token}" if form_url else url


async def answer_online(link: str, parent: Parent) -> tuple[list[str], Page]:
    """Walk the form from `link` to its confirmation: the steps answered, and the confirmation page.

    Raises httpx.TransportError when the form does not answer, FormProblem when it answers unexpectedly.
    """
    async with httpx.AsyncClient(follow_redirects=True, timeout=PAGE_TIMEOUT) as http:
        response, steps = await http.get(link), list[str]()
        for _ in range(MAX_PAGES):
            step = step_of(response.url)
            if response.status_code != 200:
                raise FormProblem(f"the form answered {response.status_code} on its {step} page")
            page = read_page(response.text)
            if step == "confirmation":
                return steps, page
            if page.action is None:
                raise FormProblem(f"the form's {step} page has no form to answer")
            data = {**page.hidden, **parent.answers(step, page.radios)}
            response = await http.post(urljoin(str(response.url), page.action), data=data)
            steps.append(step)
    raise FormProblem(f"no confirmation after {MAX_PAGES} pages")


def host_of(link: str) -> str:
    """The form's address without the token (the token is a credential: not for the terminal)."""
    parts = urlsplit(link)
    return f"{parts.scheme}://{parts.netloc}"
