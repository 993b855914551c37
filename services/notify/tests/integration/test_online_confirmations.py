"""Issue 20 through notify: a consent request carries its form link; an online response's confirmation goes to
the contact details given on the form, with the typed names only as personalisation Notify sanitises."""

from __future__ import annotations

import uuid

import pytest

from contracts.common import MessageKind
from contracts.consent import MessageRecipient
from notify_stub import NotifyStub

from ..notify_support import Harness, parent
from .test_handlers import parent_message

pytestmark = pytest.mark.integration

URL = "https://consent.example.nhs.uk/consent/c1.abc.def"


@pytest.mark.usefixtures("app")
async def test_a_consent_request_carries_the_form_link(harness: Harness, stub: NotifyStub) -> None:
    kid = await harness.setup_child(parents=[parent()])
    await harness.publish(parent_message(kid.child_id, kid.team_ods, consent_form_url=URL))
    await harness.wait_notifications(kid.child_id, "sent", 2)
    assert {s.channel: s.personalisation["consent_form_link"] for s in stub.sent} == {"email": URL, "sms": URL}


@pytest.mark.usefixtures("app")
async def test_a_confirmation_of_an_unmatched_response_goes_to_the_forms_details(
    harness: Harness, stub: NotifyStub
) -> None:
    await harness.setup_child()  # the team; the response is about no child notify knows
    response_id = uuid.uuid4()
    message = parent_message(
        response_id, harness.team, MessageKind.CONSENT_CONFIRMATION_REFUSED,
        recipient=MessageRecipient(email="mum@example.com", phone="07700900456"), sms=True,
        child_first_name="[click](https://evil.example)", child_last_name="O’Brien", parent_name="Siobhan",
        follow_up_requested=True,
    )  # fmt: skip
    await harness.publish(message)
    sent = await harness.wait_notifications(response_id, "sent", 2)
    assert sorted(n.to for n in sent) == ["07700900456", "mum@example.com"]
    [email] = [s for s in stub.sent if s.channel == "email"]
    assert email.personalisation["child_first_name"] == "[click](https://evil.example)"
    assert "child_first_name" in email.sanitise_content_for and "parent_full_name" in email.sanitise_content_for
    assert "will contact you soon" in email.personalisation["follow_up_sentence"]
