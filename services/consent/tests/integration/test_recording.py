"""Recording consent through the real broker: staff responses, implied consent, status, idempotency."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from consent import tables
from contracts.common import Programme
from contracts.consent import ConsentResponse, ConsentRoute, GetConsentStatus, RecordConsent
from contracts.sessions import SessionKind, VaccinationOutcome, VaccinationRecorded

pytestmark = pytest.mark.integration

TEAM = "RYG"


def record(
    child: Any,
    response: ConsentResponse = ConsentResponse.GIVEN,
    *,
    parent: int | None = 0,
    route: ConsentRoute = ConsentRoute.PHONE,
    **overrides: Any,
) -> RecordConsent:
    fields: dict[str, Any] = {
        "child_id": child.child_id,
        "team_ods": child.team_ods,
        "programme": Programme.FLU,
        "response": response,
        "route": route,
        "parent_id": None if parent is None else child.parents[parent].parent_id,
        "recorded_by": "nurse.jones",
    }
    return RecordConsent(**{**fields, **overrides})


def vaccination(child_id: uuid.UUID, *, parent_present: bool = True, **overrides: Any) -> VaccinationRecorded:
    fields: dict[str, Any] = {
        "record_id": uuid.uuid4(),
        "child_id": child_id,
        "team_ods": TEAM,
        "programme": Programme.FLU,
        "session_id": uuid.uuid4(),
        "session_kind": SessionKind.CLINIC,
        "academic_year": 2025,
        "outcome": VaccinationOutcome.VACCINATED,
        "venue_id": "clinic-1",
        "parent_present": parent_present,
        "performed_at": datetime(2026, 3, 10, 10, 30, tzinfo=UTC),
        "recorded_by": "nurse.patel",
    }
    return VaccinationRecorded(**{**fields, **overrides})


async def test_record_by_phone_publishes_consent_recorded_and_a_confirmation(harness: Any, make_parent: Any) -> None:
    child = await harness.seed_child(parents=[make_parent(receive_updates=True), make_parent()])
    command = record(child, ConsentResponse.GIVEN, parent=0)

    reply = await harness.ask(command)

    assert reply.ok, reply.error
    assert reply.data["status"] == "given" and reply.data["confirmation_sent"] is True
    [recorded] = await harness.observer.wait_for("ConsentRecorded", child.child_id)
    [confirmation] = await harness.observer.wait_for("SendParentMessage", child.child_id)
    assert recorded["response"] == "given" and recorded["route"] == "phone" and recorded["status"] == "given"
    assert recorded["recorded_by"] == "nurse.jones" and recorded["academic_year"] == 2025
    assert recorded["parent_id"] == str(child.parents[0].parent_id)
    assert recorded["consent_id"] == str(command.message_id)  # no consent_id given: the command's id
    assert confirmation["kind"] == "consent_confirmation_given"
    assert confirmation["parent_id"] == str(child.parents[0].parent_id) and confirmation["sms"] is True


async def test_refusal_confirmation_is_email_only_for_a_parent_who_did_not_opt_in(
    harness: Any, make_parent: Any
) -> None:
    child = await harness.seed_child(parents=[make_parent(receive_updates=True), make_parent(receive_updates=False)])

    reply = await harness.ask(record(child, ConsentResponse.REFUSED, parent=1, route=ConsentRoute.PAPER))

    assert reply.ok and reply.data["status"] == "refused"
    [confirmation] = await harness.observer.wait_for("SendParentMessage", child.child_id)
    assert confirmation["kind"] == "consent_confirmation_refused" and confirmation["sms"] is False


async def test_parents_who_disagree_are_conflicting_and_the_status_query_shows_both(
    harness: Any, make_parent: Any
) -> None:
    child = await harness.seed_child(parents=[make_parent(), make_parent()])
    assert (await harness.ask(record(child, ConsentResponse.GIVEN, parent=0))).ok

    reply = await harness.ask(record(child, ConsentResponse.REFUSED, parent=1, route=ConsentRoute.IN_PERSON))

    assert reply.data["status"] == "conflicting"
    recorded = await harness.observer.wait_for("ConsentRecorded", child.child_id, count=2)
    assert [r["status"] for r in recorded] == ["given", "conflicting"]
    status = await harness.ask(GetConsentStatus(child_id=child.child_id))
    [flu] = status.data["programmes"]
    assert (flu["programme"], flu["academic_year"], flu["status"]) == ("flu", 2025, "conflicting")
    assert [r["response"] for r in flu["responses"]] == ["given", "refused"]


async def test_staff_may_not_record_the_website_or_implied_route(harness: Any) -> None:
    child = await harness.seed_child()
    for route in (ConsentRoute.WEBSITE, ConsentRoute.IN_PERSON_IMPLIED):
        reply = await harness.ask(record(child, route=route))
        assert not reply.ok and reply.error.code == "invalid_route"
    assert await harness.count(tables.consent_responses, child_id=child.child_id) == 0


async def test_recording_for_an_unknown_child_or_parent_is_refused(harness: Any) -> None:
    child = await harness.seed_child()
    unknown_child = await harness.ask(record(child, child_id=uuid.uuid4()))
    unknown_parent = await harness.ask(record(child, parent_id=uuid.uuid4()))
    assert unknown_child.error.code == "not_found"
    assert unknown_parent.error.code == "unknown_parent"


async def test_duplicate_record_delivery_and_repeated_consent_id_have_one_effect(harness: Any) -> None:
    child = await harness.seed_child()
    command = record(child, consent_id=uuid.uuid4())

    first = await harness.ask(command)
    redelivered = await harness.ask(command)
    retried = await harness.ask(record(child, consent_id=command.consent_id))  # a new message, same consent

    assert first.ok and redelivered.ok and retried.ok
    assert (redelivered.data["duplicate"], retried.data["duplicate"]) == (True, True)
    assert retried.data["consent_id"] == first.data["consent_id"] == str(command.consent_id)
    await harness.outbox_drained()
    await harness.observer.drain()
    assert len(harness.observer.of("ConsentRecorded", child.child_id)) == 1
    assert len(harness.observer.of("SendParentMessage", child.child_id)) == 1
    assert await harness.count(tables.consent_responses, child_id=child.child_id) == 1


async def test_clinic_vaccination_with_parent_present_records_implied_consent(harness: Any) -> None:
    child_id = uuid.uuid4()  # implied consent needs no local copy of the child
    event = vaccination(child_id)

    await harness.publish(event)

    [recorded] = await harness.observer.wait_for("ConsentRecorded", child_id)
    assert (recorded["response"], recorded["route"], recorded["status"]) == ("given", "in_person_implied", "given")
    assert recorded["recorded_by"] == "nurse.patel" and recorded["parent_id"] is None
    assert recorded["recorded_at"].startswith("2026-03-10T10:30:00")
    assert harness.observer.of("SendParentMessage", child_id) == []
    status = await harness.ask(GetConsentStatus(child_id=child_id))
    assert status.ok and status.data["programmes"][0]["status"] == "given"


async def test_vaccination_without_parent_or_outside_a_clinic_implies_nothing(harness: Any) -> None:
    child_id = uuid.uuid4()
    await harness.publish(vaccination(child_id, parent_present=False))
    await harness.publish(vaccination(child_id, session_kind=SessionKind.SCHOOL))
    await harness.publish(vaccination(child_id, outcome=VaccinationOutcome.NOT_VACCINATED, reason="unwell"))
    marker = uuid.uuid4()
    await harness.publish(vaccination(marker))  # handled after the three above: the queue is consumed in order

    await harness.observer.wait_for("ConsentRecorded", marker)
    assert await harness.count(tables.consent_responses, child_id=child_id) == 0


async def test_duplicate_vaccination_delivery_records_one_consent(harness: Any) -> None:
    child_id = uuid.uuid4()
    event = vaccination(child_id)
    await harness.publish(event)
    await harness.publish(event)
    await harness.publish(vaccination(child_id, record_id=uuid.uuid4(), programme=Programme.HPV))  # marker

    await harness.observer.wait_for("ConsentRecorded", child_id, count=2)
    await harness.outbox_drained()
    await harness.observer.drain()
    assert len(harness.observer.of("ConsentRecorded", child_id)) == 2
    assert await harness.count(tables.consent_responses, child_id=child_id) == 2


async def test_status_of_an_unknown_child_is_not_found(harness: Any) -> None:
    reply = await harness.ask(GetConsentStatus(child_id=uuid.uuid4()))
    assert not reply.ok and reply.error.code == "not_found"
