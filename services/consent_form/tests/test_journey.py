"""The whole journey through the pages, against the real database, with the contract's answers faked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from starlette.testclient import TestClient

from consent_form.drafts import session_hash
from consent_form.tables import drafts
from contracts.consent import ConsentResponse, RefusalReason, VaccineMethod

from .fakes import REQUEST_TOKEN, TEAM_TOKEN, FakeGateway
from .journey import FORM, post, start, submit, walk


def test_a_parent_who_agrees_is_asked_everything_and_their_answers_are_sent_once(
    client: TestClient, gateway: FakeGateway
) -> None:
    asked = walk(client, REQUEST_TOKEN)

    assert asked == [
        "name", "date-of-birth", "school", "parent", "contact", "response-flu", "response-hpv",
        "address", "health-flu", "health-hpv",
    ]  # fmt: skip
    check = client.get(FORM + "check-answers")
    assert "Hill Top Primary" in check.text and "Eggs" in check.text and "LS1 4AP" in check.text
    sent = submit(client)
    assert sent.status_code == 303 and sent.headers["location"] == FORM + "confirmation"
    [form] = gateway.submitted.values()
    flu, hpv = form.answers
    assert flu.response is ConsentResponse.GIVEN and flu.vaccine_methods == [VaccineMethod.NASAL]
    assert [h.details for h in flu.health_answers] == [None, "Eggs"]
    assert hpv.vaccine_methods == [VaccineMethod.INJECTION]
    assert form.school_urn == "100001" and form.address is not None and form.address.postcode == "LS1 4AP"
    assert form.phone == "07700900982" and form.text_updates
    confirmation = client.get(FORM + "confirmation")
    assert "Consent confirmed" in confirmation.text and "augusta@example.com" in confirmation.text
    assert "A nurse will look at your answers to the health questions" in confirmation.text  # "Eggs": triage


def test_a_refusal_asks_the_reason_details_and_follow_up_and_no_address(
    client: TestClient, gateway: FakeGateway
) -> None:
    asked = walk(client, TEAM_TOKEN, {"response-flu": {"response-flu": "no"}})

    assert asked[-4:] == ["response-flu", "reason", "reason-notes", "follow-up"]
    submit(client)
    [form] = gateway.submitted.values()
    [flu] = form.answers
    assert flu.response is ConsentResponse.REFUSED and flu.refusal_reason is RefusalReason.MEDICAL_REASONS
    assert flu.refusal_notes == "Recent chemotherapy" and flu.follow_up_requested
    assert form.address is None
    assert "Someone from the" in client.get(FORM + "confirmation").text


def test_a_double_submit_and_a_back_and_resubmit_record_one_response(client: TestClient, gateway: FakeGateway) -> None:
    walk(client, TEAM_TOKEN)
    check = client.get(FORM + "check-answers")
    token = check.text.split('name="csrf_token" value="')[1].split('"')[0]
    first = client.post(FORM + "check-answers", data={"csrf_token": token}, follow_redirects=False)
    again = client.post(FORM + "check-answers", data={"csrf_token": token}, follow_redirects=False)

    assert first.headers["location"] == again.headers["location"] == FORM + "confirmation"
    assert len(gateway.submitted) == 1 and gateway.submissions == 1
    # Back to a question after sending: the service shows the confirmation, not the form again.
    assert client.get(FORM + "name", follow_redirects=False).headers["location"] == FORM + "confirmation"


def test_a_change_from_check_answers_asks_the_new_questions_then_returns_there(client: TestClient) -> None:
    walk(client, TEAM_TOKEN)
    check = client.get(FORM + "check-answers").text
    assert 'href="/consent/form/response-flu"' in check

    changed = post(client, "response-flu", {"response-flu": "no"})
    assert changed.headers["location"] == FORM + "reason"
    reason = post(client, "reason", {"refusal_reason": "personal_choice"})
    assert reason.headers["location"] == FORM + "follow-up"
    back = post(client, "follow-up", {"follow_up": "no"})

    assert back.headers["location"] == FORM + "check-answers"
    check = client.get(FORM + "check-answers").text
    assert "Personal choice" in check and "Child’s address" not in check and "1 Hill Street" not in check


def test_drafts_nobody_finished_are_deleted_once_expired(make_client: Callable[..., TestClient]) -> None:
    client = make_client(draft_minutes=5)
    start(client, REQUEST_TOKEN)
    service = client.app.state.service  # type: ignore[attr-defined]
    store = service.store

    async def age_and_purge() -> int:
        async with store.engine.begin() as conn:
            mine = drafts.c.session_hash == session_hash(client.cookies["consent_form"])
            await conn.execute(
                sa.update(drafts).where(mine).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        return await store.purge_expired()

    assert client.portal.call(age_and_purge) >= 1  # type: ignore[union-attr]
    assert client.get(FORM + "name").status_code == 400
