"""Local copies built from other services' events, through the real broker, with duplicate deliveries."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from consent import tables
from contracts.cohort import ChildrenJoinedClinicCohort, ChildrenUpserted, CohortJoin, JoinReason
from contracts.common import Programme
from contracts.consent import GetConsentStatus
from contracts.sessions import TeamSettings, TeamUpdated
from testkit import eventually

pytestmark = pytest.mark.integration

TEAM = "RYG"


def joined(child_id: uuid.UUID, *programmes: Programme) -> ChildrenJoinedClinicCohort:
    join = CohortJoin(
        child_id=child_id,
        team_ods=TEAM,
        programmes=list(programmes),
        academic_year=2025,
        joined_on=date(2026, 3, 1),
        reason=JoinReason.HOME_EDUCATED,
    )
    return ChildrenJoinedClinicCohort(joins=[join])


async def test_duplicate_children_upserted_has_one_effect_and_keeps_no_contact_details(
    harness: Any, make_parent: Any
) -> None:
    child = await harness.seed_child(parents=[make_parent(email=None, receive_updates=True), make_parent(phone=None)])
    event = ChildrenUpserted(children=[child])
    await harness.publish(event)
    await harness.publish(event)
    marker = await harness.seed_child()  # consumed after the duplicates on the same queue

    assert await harness.count(tables.children, child_id=marker.child_id) == 1
    assert await harness.count(tables.children, child_id=child.child_id) == 1
    parents = sorted(await harness.rows(tables.parents, child_id=child.child_id), key=lambda p: p.has_email)
    assert [(p.has_email, p.has_phone, p.receive_updates) for p in parents] == [
        (False, True, True),
        (True, False, False),
    ]


async def test_an_older_copy_of_a_child_arriving_late_does_not_win(harness: Any, make_child: Any) -> None:
    child_id = uuid.uuid4()
    newer = ChildrenUpserted(children=[make_child(child_id, archived=True)])
    older = ChildrenUpserted(
        children=[make_child(child_id, archived=False)], occurred_at=newer.occurred_at - timedelta(minutes=1)
    )
    await harness.publish(newer)
    await harness.publish(older)
    await harness.seed_child()  # marker

    [row] = await harness.rows(tables.children, child_id=child_id)
    assert row.archived is True


async def test_duplicate_clinic_join_has_one_effect_and_programmes_accumulate(harness: Any) -> None:
    child = await harness.seed_child()
    event = joined(child.child_id, Programme.FLU)
    await harness.publish(event)
    await harness.publish(event)
    await harness.publish(joined(child.child_id, Programme.HPV))
    await harness.wait_rows(tables.clinic_memberships, child_id=child.child_id)

    async def both_programmes() -> bool:
        rows = await harness.rows(tables.clinic_memberships, child_id=child.child_id)
        return len(rows) == 1 and rows[0].programmes == ["flu", "hpv"]

    await eventually(both_programmes, what="one membership with flu and hpv")
    status = await harness.ask(GetConsentStatus(child_id=child.child_id))
    assert [(p["programme"], p["status"]) for p in status.data["programmes"]] == [
        ("flu", "no_response"),
        ("hpv", "no_response"),
    ]


async def test_duplicate_clinic_dates_changed_has_one_effect_and_newer_dates_win(harness: Any) -> None:
    first = await harness.seed_clinic(date(2026, 3, 12), date(2026, 3, 20))
    await harness.publish(first)  # redelivered
    moved = first.model_copy(
        update={"message_id": uuid.uuid4(), "occurred_at": datetime.now(UTC), "last_date": date(2026, 3, 27)}
    )
    await harness.publish(moved)
    await harness.publish(first)  # redelivered again, after the change

    async def moved_closing_day() -> bool:
        [row] = await harness.rows(tables.clinic_sessions, session_id=first.session_id)
        return bool(row.consent_window_closes_on == date(2026, 3, 26))

    await eventually(moved_closing_day, what="the window to close the day before the new last date")
    assert await harness.count(tables.clinic_sessions, session_id=first.session_id) == 1


def team_updated(ods: str) -> TeamUpdated:
    return TeamUpdated(team=TeamSettings(ods_code=ods, name="Test SAIS", email="team@example.com", phone="0100"))


async def test_duplicate_team_updated_has_one_effect(harness: Any) -> None:
    ods, marker = (f"T{uuid.uuid4().hex[:6].upper()}" for _ in range(2))
    event = team_updated(ods)
    await harness.publish(event)
    await harness.publish(event)
    await harness.publish(team_updated(marker))
    await harness.wait_rows(tables.teams, ods_code=marker)
    assert await harness.count(tables.teams, ods_code=ods) == 1
    assert await harness.count(tables.messaging.processed, message_id=event.message_id) == 1
