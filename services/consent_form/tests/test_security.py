"""Red-team tests: headers, CSRF, cookies, escaping, other people's drafts, links, the submission limit."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from .conftest import csrf_of
from .fakes import EXPIRED_TOKEN, OTHER_TOKEN, REQUEST_TOKEN, TEAM_TOKEN, FakeGateway
from .journey import ANSWERS, FORM, post, start, submit, walk

HOSTILE = {
    "first_name": "<script>alert(1)</script>",
    "last_name": "O’Brien-Ñúñez 👩‍👧",
    "use_preferred": "yes",
    "preferred_name": 'محمد "<b>"',
}


def test_every_page_has_the_security_headers(client: TestClient) -> None:
    page = client.get(f"/consent/{REQUEST_TOKEN}")
    csp = page.headers["content-security-policy"]

    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    # The one inline script (the NHS.UK template's) carries this response's nonce.
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in page.text


def test_the_session_cookie_is_secure_http_only_same_site_and_expires(make_client: Callable[..., TestClient]) -> None:
    client = make_client(cookie_secure=True, draft_minutes=30)
    page = client.get(f"/consent/{REQUEST_TOKEN}")
    started = client.post(f"/consent/{REQUEST_TOKEN}", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)

    cookie = next(c for c in started.headers.get_list("set-cookie") if c.startswith("__Host-consent_form="))
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")}
    assert {"secure", "httponly", "samesite", "max-age", "path"} <= attributes
    assert "samesite=lax" in cookie.lower() and "max-age=1800" in cookie.lower()
    assert "strict-transport-security" in started.headers


def test_a_form_without_the_csrf_token_changes_nothing(client: TestClient) -> None:
    start(client, REQUEST_TOKEN)
    forged = client.post(FORM + "name", data=ANSWERS["name"], follow_redirects=False)
    wrong = client.post(FORM + "name", data={**ANSWERS["name"], "csrf_token": "x" * 43}, follow_redirects=False)
    start_forged = client.post(f"/consent/{REQUEST_TOKEN}", data={"csrf_token": "guess"}, follow_redirects=False)

    assert forged.status_code == wrong.status_code == start_forged.status_code == 403
    assert 'value="Ada"' not in client.get(FORM + "name").text


def test_names_are_stored_and_shown_exactly_and_never_as_markup(client: TestClient, gateway: FakeGateway) -> None:
    walk(client, TEAM_TOKEN, {"name": HOSTILE})
    check = client.get(FORM + "check-answers").text

    assert "<script>alert(1)</script>" not in check
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in check
    assert "O’Brien-Ñúñez 👩‍👧" in check and "محمد &#34;&lt;b&gt;&#34;" in check
    submit(client)
    [form] = gateway.submitted.values()
    assert form.child_first_name == HOSTILE["first_name"] and form.child_last_name == HOSTILE["last_name"]
    assert form.child_preferred_name == HOSTILE["preferred_name"]


def test_invisible_reordering_characters_are_refused_with_the_error_summary(client: TestClient) -> None:
    start(client, REQUEST_TOKEN)
    refused = post(client, "name", {"first_name": "Ada\u202e", "last_name": "", "use_preferred": "no"})

    assert refused.status_code == 422
    assert "There is a problem" in refused.text and 'href="#first_name"' in refused.text
    assert 'href="#last_name"' in refused.text and "<title>Error: " in refused.text


def test_a_link_cannot_read_a_draft_begun_from_another(client: TestClient) -> None:
    start(client, REQUEST_TOKEN)
    post(client, "name", ANSWERS["name"])
    assert 'value="Ada"' in client.get(FORM + "name").text

    start(client, OTHER_TOKEN)  # another request's link in the same browser: a new, empty draft

    assert 'value="Ada"' not in client.get(FORM + "name").text


def test_a_made_up_session_key_opens_nothing(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    start(client, REQUEST_TOKEN)
    client.cookies.clear()
    client.cookies.set("consent_form", "made-up-session-key")

    assert client.get(FORM + "name").status_code == 400


@pytest.mark.parametrize(
    ("token", "status", "words"),
    [
        (EXPIRED_TOKEN, 410, "The deadline for responding has passed"),
        ("req.abc124", 404, "This link does not work"),  # tampered
        ("<script>", 404, "This link does not work"),
        ("x" * 201, 404, "This link does not work"),
    ],
)
def test_expired_tampered_and_malformed_links(client: TestClient, token: str, status: int, words: str) -> None:
    page = client.get(f"/consent/{token}")

    assert page.status_code == status and words in page.text


def test_questions_cannot_be_skipped(client: TestClient) -> None:
    start(client, REQUEST_TOKEN)

    skipped = client.get(FORM + "address", follow_redirects=False)
    unknown = client.get(FORM + "nothing-here", follow_redirects=False)

    assert skipped.headers["location"] == unknown.headers["location"] == FORM + "name"


def test_no_parental_responsibility_is_a_dead_end_that_says_what_to_do(client: TestClient) -> None:
    start(client, REQUEST_TOKEN)
    for step in ("name", "date-of-birth", "school"):
        post(client, step, ANSWERS[step])
    other = {"parent_name": "A Carer", "relationship": "other", "relationship_other": "Carer", "responsibility": "no"}
    answered = post(client, "parent", other)

    assert answered.headers["location"] == FORM + "cannot-consent"
    page = client.get(FORM + "cannot-consent")
    assert "You cannot give or refuse consent through this service" in page.text and "0113 496 0000" in page.text
    assert client.get(FORM + "check-answers", follow_redirects=False).headers["location"] == FORM + "cannot-consent"


def test_submissions_over_the_per_client_limit_are_refused(
    make_client: Callable[..., TestClient], gateway: FakeGateway
) -> None:
    client = make_client(submissions_per_minute=1)
    walk(client, TEAM_TOKEN)
    assert submit(client).status_code == 303
    walk(client, REQUEST_TOKEN)

    assert submit(client).status_code == 429
    assert gateway.submissions == 1


def test_health_metrics_and_logs_say_nothing_personal(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    walk(client, REQUEST_TOKEN, {"name": HOSTILE})
    submit(client)
    metrics = client.get("/metrics/").text

    # The test client (httpx) logs its own requests; everything else is the service's.
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if not r.name.startswith("httpx"))
    assert "consent form submitted" in logged
    for personal in (REQUEST_TOKEN, "O’Brien", "augusta@example.com", "07700", "Eggs", "LS1"):
        assert personal not in logged

    assert client.get("/health").status_code == 200
    assert 'page="name"' in metrics and REQUEST_TOKEN not in metrics and "Lovelace" not in metrics
