"""The team's generic link: responses matched on name, birth date and postcode, or left for staff to settle."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from consent import tables
from contracts.consent import (
    ArchiveConsentResponse,
    CreateChildFromConsentResponse,
    GetConsentResponse,
    GetTeamConsentLink,
    ListConsentResponses,
    MatchConsentResponse,
    OpenConsentForm,
    SubmitConsentForm,
)

from .form_support import BORN, LAST_DATE, POSTCODE, failed, form, seed_team, setup

pytestmark = pytest.mark.integration


async def team_token(harness: Any) -> str:
    reply = await harness.ask(GetTeamConsentLink(team_ods=harness.team))
    assert reply.ok, reply.error
    assert reply.data["url"].endswith(reply.data["token"]) and reply.data["programmes"] == ["flu"]
    return str(reply.data["token"])


async def unmatched(harness: Any) -> list[str]:
    reply = await harness.ask(ListConsentResponses(team_ods=harness.team))
    assert reply.ok, reply.error
    return [r["response_id"] for r in reply.data["responses"]]


async def test_a_team_link_shows_no_child_and_matches_the_one_child_whatever_the_apostrophe(harness: Any) -> None:
    child = await setup(harness, first_name="AOIFE", last_name="O'Brien", date_of_birth=BORN, postcode="ls14ap")
    token = await team_token(harness)
    view = await harness.ask(OpenConsentForm(token=token))
    assert view.ok and view.data["link_kind"] == "team" and view.data["child_first_name"] is None

    reply = await harness.ask(SubmitConsentForm(token=token, response_id=uuid.uuid4(), form=form()))

    assert reply.ok and reply.data["matched"] is True
    [recorded] = await harness.observer.wait_for("ConsentRecorded", child.child_id)
    assert recorded["route"] == "website"


async def test_two_children_alike_leave_the_response_for_staff_who_match_it(harness: Any) -> None:
    details = {"first_name": "Aoife", "last_name": "O’Brien", "date_of_birth": BORN, "postcode": POSTCODE}
    child = await setup(harness, **details)
    await harness.seed_child(**details)
    token = await team_token(harness)
    first, second = uuid.uuid4(), uuid.uuid4()
    for response_id in (first, second):
        reply = await harness.ask(SubmitConsentForm(token=token, response_id=response_id, form=form()))
        assert reply.ok and reply.data["matched"] is False

    assert await unmatched(harness) == [str(first), str(second)]  # oldest first
    shown = await harness.ask(GetConsentResponse(response_id=first))
    assert shown.ok and shown.data["form"]["child_last_name"] == "O’Brien" and shown.data["state"] == "unmatched"
    matched = await harness.ask(MatchConsentResponse(response_id=first, child_id=child.child_id, matched_by="nurse"))

    assert matched.ok, matched.error
    [recorded] = await harness.observer.wait_for("ConsentRecorded", child.child_id)
    assert recorded["status"] == "given"
    assert await unmatched(harness) == [str(second)]
    again = await harness.ask(MatchConsentResponse(response_id=first, child_id=child.child_id, matched_by="nurse"))
    assert again.ok and again.data["duplicate"] is True  # a redelivery records nothing more
    elsewhere = await harness.ask(MatchConsentResponse(response_id=first, child_id=uuid.uuid4(), matched_by="nurse"))
    failed(elsewhere, "not_unmatched")
    assert await harness.count(tables.consent_responses, child_id=child.child_id) == 1


async def test_an_unmatched_response_is_matched_when_its_child_is_imported(harness: Any) -> None:
    await seed_team(harness)
    await harness.seed_clinic(LAST_DATE)
    token = await team_token(harness)
    response_id = uuid.uuid4()
    reply = await harness.ask(SubmitConsentForm(token=token, response_id=response_id, form=form()))
    assert reply.ok and reply.data["matched"] is False

    child = await harness.seed_child(first_name="aoife", last_name="o'brien", date_of_birth=BORN, postcode=POSTCODE)

    [recorded] = await harness.observer.wait_for("ConsentRecorded", child.child_id)
    assert recorded["route"] == "website"
    assert await unmatched(harness) == []


async def test_staff_add_the_child_from_a_response_and_it_is_matched_when_cohort_adds_them(harness: Any) -> None:
    await setup(harness, first_name="Someone", last_name="Else")
    token = await team_token(harness)
    response_id = uuid.uuid4()
    await harness.ask(SubmitConsentForm(token=token, response_id=response_id, form=form()))

    reply = await harness.ask(CreateChildFromConsentResponse(response_id=response_id, created_by="nurse"))

    assert reply.ok and reply.data["state"] == "creating"
    child_id = uuid.UUID(reply.data["child_id"])
    [add] = await harness.observer.wait_for("AddChildFromConsentResponse", child_id)
    assert (add["first_name"], add["postcode"], add["school_urn"]) == ("Aoife", POSTCODE, "999999")
    assert add["parent"]["email"] == "parent@example.com" and add["parent"]["receive_updates"] is True
    await harness.seed_child(child_id, first_name="Aoife", last_name="O’Brien", date_of_birth=BORN, postcode=POSTCODE)
    [recorded] = await harness.observer.wait_for("ConsentRecorded", child_id)
    assert recorded["status"] == "given"
    assert await harness.count(tables.consent_forms, response_id=response_id, state="matched") == 1


async def test_staff_archive_a_response_with_notes(harness: Any) -> None:
    await setup(harness, first_name="Someone", last_name="Else")
    token = await team_token(harness)
    response_id = uuid.uuid4()
    await harness.ask(SubmitConsentForm(token=token, response_id=response_id, form=form()))

    reply = await harness.ask(ArchiveConsentResponse(response_id=response_id, notes="duplicate", archived_by="nurse"))

    assert reply.ok, reply.error
    assert await unmatched(harness) == []
    shown = await harness.ask(GetConsentResponse(response_id=response_id))
    assert (shown.data["state"], shown.data["notes"]) == ("archived", "duplicate")
