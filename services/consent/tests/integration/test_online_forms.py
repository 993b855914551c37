"""The online consent form from a consent request's link, through the real broker and database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from consent import tables
from contracts.consent import GetConsentStatus, OpenConsentForm, SubmitConsentForm

from .form_support import failed, flu, form, request_token, setup

pytestmark = pytest.mark.integration


async def test_a_request_link_shows_the_childs_name_and_programmes_and_no_more(harness: Any) -> None:
    child = await setup(harness, first_name="Aoife", last_name="O’Brien")
    token = await request_token(harness, child)

    reply = await harness.ask(OpenConsentForm(token=token))

    assert reply.ok, reply.error
    view = reply.data
    assert (view["link_kind"], view["child_first_name"], view["child_last_name"]) == ("request", "Aoife", "O’Brien")
    assert view["team_name"] == "Leeds SAIS" and view["closes_on"] == "2026-03-19"
    [programme] = view["programmes"]
    assert programme["programme"] == "flu" and programme["vaccine_methods"] == ["nasal", "injection"]
    assert programme["health_questions"][0]["question"] == "Has your child been diagnosed with asthma?"
    assert str(child.child_id) not in token and "date_of_birth" not in view


async def test_a_form_is_recorded_once_as_website_consent_and_confirmed(harness: Any) -> None:
    child = await setup(harness)
    token = await request_token(harness, child)
    submit = SubmitConsentForm(token=token, response_id=uuid.uuid4(), form=form())

    first = await harness.ask(submit)
    again = await harness.ask(SubmitConsentForm(token=token, response_id=submit.response_id, form=form()))

    assert first.ok and first.data == {
        "response_id": str(submit.response_id),
        "matched": True,
        "needs_triage": False,
        "repeated": False,
    }
    assert again.ok and again.data["repeated"] is True
    [recorded] = await harness.observer.wait_for("ConsentRecorded", child.child_id)
    assert (recorded["route"], recorded["status"], recorded["response"]) == ("website", "given", "given")
    assert recorded["parent_id"] == str(child.parents[0].parent_id)  # the form came from the parent on record
    confirmations = await harness.observer.wait_for("SendParentMessage", child.child_id, count=2)
    [given] = [m for m in confirmations if m["kind"] == "consent_confirmation_given"]
    assert given["recipient"] == {"email": "parent@example.com", "phone": "07700900123"} and given["sms"] is True
    assert await harness.count(tables.consent_responses, child_id=child.child_id) == 1
    assert await harness.count(tables.consent_forms, response_id=submit.response_id) == 1


async def test_a_health_yes_needs_triage_and_gets_the_triage_confirmation(harness: Any) -> None:
    child = await setup(harness)
    token = await request_token(harness, child)
    health = [{"question_id": "asthma", "question": "Asthma?", "answer": True, "details": "Inhaler <b>daily</b>"}]

    reply = await harness.ask(
        SubmitConsentForm(token=token, response_id=uuid.uuid4(), form=form(flu(health_answers=health)))
    )

    assert reply.ok and reply.data["needs_triage"] is True
    status = await harness.ask(GetConsentStatus(child_id=child.child_id))
    [flu_status] = status.data["programmes"]
    assert (flu_status["status"], flu_status["needs_triage"]) == ("given", True)  # staff see it
    assert flu_status["responses"][0]["vaccine_methods"] == ["nasal", "injection"]
    messages = await harness.observer.wait_for("SendParentMessage", child.child_id, count=2)
    [triage] = [m for m in messages if m["kind"] == "consent_confirmation_triage"]
    assert triage["sms"] is False  # Mavis emails the triage wording only


async def test_a_refusal_asking_for_a_call_is_follow_up_requested(harness: Any) -> None:
    child = await setup(harness)
    token = await request_token(harness, child)

    reply = await harness.ask(
        SubmitConsentForm(token=token, response_id=uuid.uuid4(), form=form(flu("refused", follow_up_requested=True)))
    )

    assert reply.ok, reply.error
    [recorded] = await harness.observer.wait_for("ConsentRecorded", child.child_id)
    assert (recorded["response"], recorded["status"]) == ("refused", "follow_up_requested")
    messages = await harness.observer.wait_for("SendParentMessage", child.child_id, count=2)
    [refused] = [m for m in messages if m["kind"] == "consent_confirmation_refused"]
    assert refused["follow_up_requested"] is True


async def test_two_parents_who_disagree_are_conflicting_and_the_unknown_one_warns_the_other(harness: Any) -> None:
    child = await setup(harness)
    token = await request_token(harness, child)
    await harness.ask(SubmitConsentForm(token=token, response_id=uuid.uuid4(), form=form()))
    dad = form(
        flu("refused"), parent_name="Dad", relationship="dad", email="dad@example.com", phone=None, text_updates=False
    )

    reply = await harness.ask(SubmitConsentForm(token=token, response_id=uuid.uuid4(), form=dad))

    assert reply.ok, reply.error
    recorded = await harness.observer.wait_for("ConsentRecorded", child.child_id, count=2)
    assert [r["status"] for r in recorded] == ["given", "conflicting"]
    messages = await harness.observer.wait_for("SendParentMessage", child.child_id, count=4)
    [warning] = [m for m in messages if m["kind"] == "consent_unknown_contact_details_warning"]
    assert warning["parent_id"] == str(child.parents[0].parent_id) and warning["recipient"] is None


async def test_a_tampered_link_is_invalid_and_an_old_one_expired(harness: Any) -> None:
    child = await setup(harness)
    token = await request_token(harness, child)
    version, payload, signature = token.split(".")

    failed(await harness.ask(OpenConsentForm(token=f"{version}.{payload}.{signature[::-1]}")), "link_invalid")
    failed(await harness.ask(OpenConsentForm(token="c1.AAAA.AAAA")), "link_invalid")
    harness.clock.set(datetime(2026, 3, 20, 9, tzinfo=UTC))  # the last clinic day: the window closed yesterday
    failed(await harness.ask(OpenConsentForm(token=token)), "link_expired")
    failed(await harness.ask(SubmitConsentForm(token=token, response_id=uuid.uuid4(), form=form())), "link_expired")


async def test_answers_for_a_programme_the_link_does_not_ask_about_are_refused(harness: Any) -> None:
    child = await setup(harness)
    token = await request_token(harness, child)
    hpv = {"programme": "hpv", "response": "given", "vaccine_methods": ["injection"]}

    failed(await harness.ask(SubmitConsentForm(token=token, response_id=uuid.uuid4(), form=form(hpv))), "form_invalid")
    assert await harness.count(tables.consent_responses, child_id=child.child_id) == 0
