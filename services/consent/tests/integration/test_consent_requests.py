"""*Send consent request* through the real broker: refusals with their reasons, and what a request sends."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from consent import tables
from contracts.common import Programme
from contracts.consent import ConsentResponse, ConsentRoute, RecordConsent, SendConsentRequest

pytestmark = pytest.mark.integration

LAST_DATE = date(2026, 3, 20)  # requests are allowed until 19 March inclusive (London)


def send(child: Any, *programmes: Programme) -> SendConsentRequest:
    return SendConsentRequest(
        child_id=child.child_id,
        team_ods=child.team_ods,
        programmes=list(programmes or [Programme.FLU]),
        requested_by="nurse.jones",
    )


def refused_with(reply: Any, code: str) -> str:
    assert not reply.ok and reply.error is not None, reply
    assert reply.error.code == code, reply.error
    return str(reply.error.message)


async def test_request_while_the_window_is_open_sends_request_and_parent_message(harness: Any) -> None:
    await harness.seed_clinic(date(2026, 3, 12), LAST_DATE)
    child = await harness.seed_child()
    command = send(child)

    reply = await harness.ask(command)

    assert reply.ok, reply.error
    assert reply.data["programmes"] == ["flu"] and reply.data["academic_year"] == 2025
    [requested] = await harness.observer.wait_for("ConsentRequested", child.child_id)
    [message] = await harness.observer.wait_for("SendParentMessage", child.child_id)
    assert requested["requested_by"] == "nurse.jones" and requested["programmes"] == ["flu"]
    assert message["kind"] == "consent_clinic_request"
    assert message["sms"] is True and message["parent_id"] is None
    assert message["causation_id"] == str(command.message_id)
    assert await harness.count(tables.consent_requests, child_id=child.child_id) == 1


async def test_request_after_the_day_before_the_last_clinic_date_is_refused(harness: Any) -> None:
    await harness.seed_clinic(date(2026, 4, 14), date(2026, 4, 20))
    child = await harness.seed_child()
    # 00:30 on 20 April in London (BST) is still 19 April, the last open day, in UTC: London decides.
    harness.clock.set(datetime(2026, 4, 19, 23, 30, tzinfo=UTC))

    message = refused_with(await harness.ask(send(child)), "consent_window_closed")

    assert "the last day was 19 Apr 2026" in message
    assert harness.observer.of(child_id=child.child_id) == []
    assert await harness.count(tables.consent_requests, child_id=child.child_id) == 0


async def test_the_closing_day_sessions_announces_is_the_one_used(harness: Any) -> None:
    await harness.seed_clinic(LAST_DATE, closes_on=date(2026, 3, 9))  # the clock says 10 March
    child = await harness.seed_child()

    message = refused_with(await harness.ask(send(child)), "consent_window_closed")

    assert "the last day was 9 Mar 2026" in message


async def test_request_without_clinic_dates_is_refused_as_window_closed(harness: Any) -> None:
    await harness.seed_clinic(LAST_DATE, programmes=[Programme.FLU])
    child = await harness.seed_child()

    message = refused_with(await harness.ask(send(child, Programme.MMR)), "consent_window_closed")

    assert "no clinic dates for mmr" in message


async def test_request_for_a_child_whose_parent_responded_is_refused(harness: Any) -> None:
    await harness.seed_clinic(LAST_DATE)
    child = await harness.seed_child()
    record = RecordConsent(
        child_id=child.child_id,
        team_ods=child.team_ods,
        programme=Programme.FLU,
        response=ConsentResponse.REFUSED,
        route=ConsentRoute.PHONE,
        parent_id=child.parents[0].parent_id,
        recorded_by="nurse.jones",
    )
    assert (await harness.ask(record)).ok

    refused_with(await harness.ask(send(child)), "already_responded")


async def test_request_for_a_child_without_contactable_parents_is_refused(harness: Any, make_parent: Any) -> None:
    await harness.seed_clinic(LAST_DATE)
    child = await harness.seed_child(parents=[make_parent(email=None, phone=None)])

    refused_with(await harness.ask(send(child)), "no_contactable_parents")


async def test_request_for_a_do_not_contact_child_is_refused(harness: Any) -> None:
    await harness.seed_clinic(LAST_DATE)
    child = await harness.seed_child(restricted=True)

    refused_with(await harness.ask(send(child)), "do_not_contact")


async def test_request_for_an_unknown_child_is_not_found(harness: Any) -> None:
    unknown = (await harness.seed_child()).model_copy(update={"child_id": uuid.uuid4()})
    refused_with(await harness.ask(send(unknown)), "not_found")


async def test_request_for_another_teams_child_is_not_found(harness: Any) -> None:
    await harness.seed_clinic(LAST_DATE)
    child = await harness.seed_child()
    refused_with(await harness.ask(send(child.model_copy(update={"team_ods": "RT5"}))), "not_found")


async def test_duplicate_request_delivery_sends_once(harness: Any) -> None:
    await harness.seed_clinic(LAST_DATE)
    child = await harness.seed_child()
    command = send(child)

    first = await harness.ask(command)
    again = await harness.ask(command)  # the same message delivered twice

    assert first.ok and again.ok and again.data["duplicate"] is True
    assert again.data["request_id"] == first.data["request_id"]
    await harness.outbox_drained()
    await harness.observer.drain()
    assert len(harness.observer.of("SendParentMessage", child.child_id)) == 1
    assert len(harness.observer.of("ConsentRequested", child.child_id)) == 1
    assert await harness.count(tables.consent_requests, child_id=child.child_id) == 1
