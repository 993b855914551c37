"""Teams and locations through the real broker: UpsertTeam and AddLocation."""

from __future__ import annotations

import json
import uuid
from datetime import time
from typing import TYPE_CHECKING

import pytest

from contracts import sessions as c
from contracts import topology
from contracts.envelope import Reply
from msgkit.broker import exchange

if TYPE_CHECKING:
    from conftest import Client

pytestmark = pytest.mark.integration


async def test_upserting_a_team_stores_it_and_publishes_team_updated(client: Client) -> None:
    ods = client.new_ods()
    data = await client.ok(client.team(ods, booking_url="https://book.example.com/leeds", reply_to_id="r-1"))
    event = await client.tap.one(c.TeamUpdated, lambda e: e.team.ods_code == ods)
    assert data["ods_code"] == ods and data["days_before_invitations"] == 21
    assert (event.team.send_window_start, event.team.send_window_end) == (time(9), time(19))
    assert str(event.team.booking_url) == "https://book.example.com/leeds" and event.team.reply_to_id == "r-1"


async def test_changed_settings_publish_again_and_unchanged_ones_do_not(client: Client) -> None:
    ods = client.new_ods()
    await client.ok(client.team(ods))
    await client.ok(client.team(ods))  # a new request saying the same
    changed = await client.ok(client.team(ods, days_before_invitations=14))
    assert changed["days_before_invitations"] == 14
    await client.settle()
    events = client.tap.of(c.TeamUpdated, lambda e: e.team.ods_code == ods)
    assert [e.team.days_before_invitations for e in events] == [21, 14]


async def test_duplicate_upsert_team_request_has_one_effect(client: Client) -> None:
    ods = client.new_ods()
    request = client.team(ods)
    first, second = await client.ok(request), await client.ok(request)
    assert first == second
    await client.settle()
    assert len(client.tap.of(c.TeamUpdated, lambda e: e.team.ods_code == ods)) == 1


async def test_a_sending_window_that_closes_before_it_opens_is_refused(client: Client) -> None:
    request = client.team(client.new_ods(), send_window_start=time(19), send_window_end=time(9))
    code, message = await client.refused(request)
    assert code == "invalid_sending_window" and "19:00" in message


async def test_a_malformed_request_gets_a_clear_error_reply(client: Client) -> None:
    route = topology.request_route(c.UpsertTeam)
    body = {"team": {"ods_code": "not valid!", "name": "x", "email": "nope", "phone": "1"}}
    response = await client.broker.request(
        json.dumps(body).encode(),
        exchange=exchange(route.exchange, route.exchange_type),
        routing_key=route.routing_key,
        correlation_id=str(uuid.uuid4()),
        content_type="application/json",
        timeout=5,
    )
    reply = Reply.model_validate_json(response.body)
    assert not reply.ok and reply.error is not None
    assert reply.error.code == "invalid_request" and "ods_code" in reply.error.message


async def test_a_school_and_a_clinic_venue_are_added_to_a_team(client: Client) -> None:
    ods, urn = client.new_ods(), client.new_urn()
    await client.ok(client.team(ods))
    school = await client.ok(c.AddLocation(team_ods=ods, location_id=urn, kind="school", name="Park School"))
    venue = c.AddLocation(team_ods=ods, location_id="leeds-hub", kind="community_clinic", name="Leeds Hub")
    assert school == {"team_ods": ods, "location_id": urn, "kind": "school", "name": "Park School"}
    assert (await client.ok(venue))["kind"] == "community_clinic"
    assert await client.ok(venue) == await client.ok(venue)  # duplicate delivery of one request


@pytest.mark.parametrize("urn", ["888888", "999999"])
async def test_placeholder_urns_are_refused_as_schools(client: Client, urn: str) -> None:
    ods = client.new_ods()
    await client.ok(client.team(ods))
    code, message = await client.refused(c.AddLocation(team_ods=ods, location_id=urn, kind="school", name="None"))
    assert code == "placeholder_urn" and urn in message and "community clinic" in message


async def test_a_location_of_an_unknown_team_is_refused(client: Client) -> None:
    code, message = await client.refused(
        c.AddLocation(team_ods=client.new_ods(), location_id=client.new_urn(), kind="school", name="Park School")
    )
    assert code == "not_found" and "UpsertTeam" in message


async def test_list_team_schools_answers_the_teams_schools_by_name(client: Client) -> None:
    ods = client.new_ods()
    await client.ok(client.team(ods))
    await client.ok(c.AddLocation(team_ods=ods, location_id="100002", kind="school", name="Zetland Primary"))
    await client.ok(c.AddLocation(team_ods=ods, location_id="100001", kind="school", name="Abbey School"))
    await client.ok(c.AddLocation(team_ods=ods, location_id="hub", kind="community_clinic", name="Leeds Hub"))
    data = await client.ok(c.ListTeamSchools(team_ods=ods))
    assert data == {
        "team_ods": ods,
        "schools": [{"urn": "100001", "name": "Abbey School"}, {"urn": "100002", "name": "Zetland Primary"}],
    }
    code, _ = await client.refused(c.ListTeamSchools(team_ods=client.new_ods()))
    assert code == "not_found"
