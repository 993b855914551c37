"""Rows held for review (issue 19, item 18): nothing changes until staff decide, then each decision does
what it says, once, and is in the child's activity log."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker

from contracts.cohort import DecideImportReview, GetActivityLog, ListImportReviews, ReviewDecision
from contracts.envelope import Reply
from msgkit.runtime import Runtime
from testkit import eventually

from ..cohort_support import HEADER, Tap, ask, child_row, import_rows, new_team, scalar

pytestmark = pytest.mark.integration

NURSE = "Nurse Joy"
CHILDREN = "SELECT count(*) FROM children WHERE team_ods = :t"


def _without_number(row: list[str]) -> list[str]:
    return [*row[:5], "", *row[6:]]


async def _held_import(client: RabbitBroker, team: str) -> tuple[uuid.UUID, list[list[str]]]:
    """Three children, then a file that renames the first (matched by NHS number), moves the second
    (no number: matched on three of four details) to home education, and repeats the third."""
    first, third = child_row(1, urn="100001"), child_row(3, urn="100001")
    second = _without_number(child_row(2, urn="100001"))
    _, reply = await import_rows(client, team, HEADER, [(2, first), (3, second), (4, third)])
    assert reply.ok, reply.error
    renamed = [first[0], "Renamed", *first[2:]]
    moved = [*second[:3], "LS2 9JT", "999999", *second[5:]]
    import_id = uuid.uuid4()
    _, again = await import_rows(client, team, HEADER, [(2, renamed), (3, moved), (4, third)], import_id=import_id)
    assert again.data == {
        "children_created": 0, "children_updated": 0, "unchanged": 1, "joined_clinic": 0, "needs_review": 2,
    }  # fmt: skip
    return import_id, [first, second, third]


async def _decide(client: RabbitBroker, import_id: uuid.UUID, row: int, decision: ReviewDecision) -> Reply:
    command = DecideImportReview(import_id=import_id, row_number=row, decision=decision, decided_by=NURSE)
    return await ask(client, command)


async def _child(runtime: Runtime, **where: Any) -> Any:
    condition = " AND ".join(f"{k} = :{k}" for k in where)
    async with runtime.sessions() as session:
        from sqlalchemy import text

        return (await session.execute(text(f"SELECT * FROM children WHERE {condition}"), where)).one()


async def _log(client: RabbitBroker, child_id: uuid.UUID) -> list[str]:
    reply = await ask(client, GetActivityLog(child_id=child_id))
    assert reply.data is not None
    return [e["text"] for e in reply.data["entries"]]


async def test_held_rows_change_nothing_until_decided_and_are_listed_side_by_side(
    client: RabbitBroker, runtime: Runtime, tap: Tap
) -> None:
    team = new_team()
    import_id, (first, second, _) = await _held_import(client, team)
    assert (await _child(runtime, team_ods=team, nhs_number=first[5])).last_name == first[1]
    assert (await _child(runtime, team_ods=team, last_name=second[1])).postcode == "LS1 4AP"
    assert await scalar(runtime, "SELECT count(*) FROM clinic_memberships WHERE team_ods = :t", t=team) == 0
    assert await scalar(runtime, "SELECT count(*) FROM import_rows WHERE import_id = :i", i=import_id) == 0

    listed = await ask(client, ListImportReviews(import_id=import_id))
    assert listed.data is not None
    assert (listed.data["total"], listed.data["undecided"], listed.data["next_after"]) == (2, 2, None)
    renamed, moved = listed.data["reviews"]
    assert (renamed["row_number"], renamed["matched_on"], renamed["differs"]) == (2, "nhs_number", ["last_name"])
    assert (renamed["uploaded"]["last_name"], renamed["existing"]["last_name"]) == ("Renamed", first[1])
    assert (moved["matched_on"], moved["differs"]) == ("details", ["postcode", "school_urn"])
    assert moved["uploaded"]["parents"][0]["email"] == second[8]
    one_page = await ask(client, ListImportReviews(import_id=import_id, page_size=1))
    assert one_page.data is not None and one_page.data["next_after"] == 2


async def test_use_the_upload_updates_the_child_once_and_logs_it(
    client: RabbitBroker, runtime: Runtime, tap: Tap
) -> None:
    team = new_team()
    import_id, (first, _, _) = await _held_import(client, team)
    command = DecideImportReview(
        import_id=import_id, row_number=2, decision=ReviewDecision.USE_UPLOAD, decided_by=NURSE
    )
    decided = await ask(client, command)
    assert decided.ok and decided.data is not None and decided.data["joined_clinic"] is False
    child = await _child(runtime, team_ods=team, nhs_number=first[5])
    assert child.last_name == "Renamed" and decided.data["child_id"] == str(child.id)
    assert (await ask(client, command)).data == decided.data  # redelivered: the same answer
    again = await _decide(client, import_id, 2, ReviewDecision.KEEP_EXISTING)
    assert again.error is not None and again.error.code == "already_decided"
    await eventually(lambda: _snapshot_named(tap, team, "Renamed"), what="ChildrenUpserted with the uploaded name")
    assert any(
        "the uploaded details were used (last name), decided by Nurse Joy" in t for t in await _log(client, child.id)
    )


async def _snapshot_named(tap: Tap, team: str, last_name: str) -> bool:
    return any(c["last_name"] == last_name for c in tap.snapshots(team))


async def test_keep_both_adds_the_upload_as_a_child_who_joins_as_an_import_would(
    client: RabbitBroker, runtime: Runtime, tap: Tap
) -> None:
    team = new_team()
    import_id, (_, second, _) = await _held_import(client, team)
    refused = await _decide(client, import_id, 2, ReviewDecision.KEEP_BOTH)
    assert refused.error is not None and refused.error.code == "invalid_request"  # row 2 has the child's number
    decided = await _decide(client, import_id, 3, ReviewDecision.KEEP_BOTH)
    assert decided.data is not None and decided.data["joined_clinic"] is True
    assert await scalar(runtime, CHILDREN, t=team) == 4
    existing = await _child(runtime, team_ods=team, last_name=second[1], postcode="LS1 4AP")
    added = await _child(runtime, team_ods=team, last_name=second[1], postcode="LS2 9JT")
    assert str(added.id) == decided.data["child_id"] and added.school_urn == "999999"
    assert {p["parent_id"] for p in added.parents}.isdisjoint(p["parent_id"] for p in existing.parents)
    invitations = await eventually(lambda: _invited(tap, team), what="the new child's invitation")
    assert [i["child_id"] for i in invitations] == [str(added.id)] and invitations[0]["reason"] == "home_educated"
    assert any("kept beside child" in t for t in await _log(client, added.id))
    assert any("the upload was kept as another child" in t for t in await _log(client, existing.id))


async def _invited(tap: Tap, team: str) -> list[dict[str, Any]] | None:
    return tap.invitations(team) or None


async def test_keep_the_existing_record_discards_the_upload(client: RabbitBroker, runtime: Runtime) -> None:
    team = new_team()
    import_id, (_, second, _) = await _held_import(client, team)
    decided = await _decide(client, import_id, 3, ReviewDecision.KEEP_EXISTING)
    assert decided.ok
    child = await _child(runtime, team_ods=team, last_name=second[1])
    assert (child.postcode, child.school_urn) == ("LS1 4AP", "100001")
    assert await scalar(runtime, "SELECT count(*) FROM clinic_memberships WHERE team_ods = :t", t=team) == 0
    assert any("this record was kept" in t for t in await _log(client, child.id))
    listed = await ask(client, ListImportReviews(import_id=import_id))
    assert listed.data is not None and listed.data["undecided"] == 1
    missing = await _decide(client, import_id, 4, ReviewDecision.USE_UPLOAD)
    assert missing.error is not None and missing.error.code == "not_found"
