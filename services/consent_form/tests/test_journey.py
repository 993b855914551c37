"""The whole journey through the pages, against the real database, with the contract's answers faked."""

from __future__ import annotations

from starlette.testclient import TestClient

from contracts.consent import ConsentResponse, RefusalReason, VaccineMethod

from .fakes import REQUEST_TOKEN, TEAM_TOKEN, FakeGateway
from .journey import FORM, submit, walk


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
