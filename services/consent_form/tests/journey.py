"""Walks the form as a parent would, page by page, following the service's redirects."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from .conftest import csrf_of

FORM = "/consent/form/"

ANSWERS: dict[str, dict[str, str]] = {
    "name": {"first_name": "Ada", "last_name": "Lovelace", "use_preferred": "no"},
    "date-of-birth": {"dob-day": "10", "dob-month": "12", "dob-year": "2015"},
    "school": {"education": "school", "school_urn": "100001"},
    "parent": {"parent_name": "Augusta King", "relationship": "mum"},
    "contact": {"email": "augusta@example.com", "phone": "07700 900982", "text_updates": "yes"},
    "response-flu": {"response-flu": "nasal"},
    "response-hpv": {"response-hpv": "yes"},
    "reason": {"refusal_reason": "medical_reasons"},
    "reason-notes": {"refusal_notes": "Recent chemotherapy"},
    "follow-up": {"follow_up": "yes"},
    "address": {"address_line_1": "1 Hill Street", "town": "Leeds", "postcode": "ls1 4ap"},
    "health-flu": {"health-flu-asthma": "no", "health-flu-allergy": "yes", "health-flu-allergy-details": "Eggs"},
    "health-hpv": {"health-hpv-bleeding": "no"},
}


def start(client: TestClient, token: str) -> str:
    """Open the link and press Start now; the path of the first question."""
    page = client.get(f"/consent/{token}")
    assert page.status_code == 200, page.text
    started = client.post(f"/consent/{token}", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert started.status_code == 303, started.text
    return started.headers["location"]


def post(client: TestClient, step: str, data: dict[str, str]) -> Any:
    page = client.get(FORM + step)
    assert page.status_code == 200, (step, page.status_code, page.headers.get("location"))
    return client.post(FORM + step, data={**data, "csrf_token": csrf_of(page.text)}, follow_redirects=False)


def walk(client: TestClient, token: str, changes: dict[str, dict[str, str]] | None = None) -> list[str]:
    """Answer every question asked (ANSWERS with `changes`) up to check answers; the steps answered."""
    answers = {**ANSWERS, **(changes or {})}
    location = start(client, token)
    asked = []
    while location != FORM + "check-answers":
        step = location.removeprefix(FORM)
        asked.append(step)
        assert len(asked) < 30, asked
        answered = post(client, step, answers[step])
        assert answered.status_code == 303, (step, answered.text)
        location = answered.headers["location"]
    return asked


def submit(client: TestClient) -> Any:
    check = client.get(FORM + "check-answers")
    assert check.status_code == 200
    return client.post(FORM + "check-answers", data={"csrf_token": csrf_of(check.text)}, follow_redirects=False)
