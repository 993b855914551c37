"""Re-timing a team set-wise: every unsent invitation in one statement, rows a dispatcher holds waited for."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.cohort import InvitationKind, InvitationRequest, InvitationTrigger, JoinReason
from contracts.common import MAX_BATCH, Programme
from contracts.notify import InvitationsScheduled
from msgkit.db import session_factory
from notify.domain.invitations import InvitationStatus
from notify.ledger import retiming
from notify.persistence.invitations import InvitationRepository
from testkit import eventually

from ..notify_support import YEAR, Harness, clinic_dates, invite, team_updated

pytestmark = pytest.mark.integration


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def requests(team: str, count: int, trigger: InvitationTrigger = InvitationTrigger.AUTOMATIC) -> list[Any]:
    staff = trigger == InvitationTrigger.STAFF
    return [
        InvitationRequest(
            child_id=uuid.uuid4(), team_ods=team, programmes=[Programme.FLU], academic_year=YEAR, trigger=trigger,
            kind=InvitationKind.INITIAL, reason=JoinReason.STAFF_INVITE if staff else JoinReason.UNKNOWN_SCHOOL,
        )
        for _ in range(count)
    ]  # fmt: skip


async def team_with_invitations(harness: Harness, session: uuid.UUID, on: date, batches: Sequence[list[Any]]) -> None:
    """The team, one clinic session on `on`, and each batch of requests invited as its own command."""
    messages: list[Any] = [team_updated(harness.team, at=harness.clock.now())]
    messages.append(clinic_dates(harness.team, [on], at=harness.clock.now(), session=session))
    for n, batch in enumerate(batches):
        messages.append(invite(*batch, at=harness.clock.now().replace(second=n)))  # a request time each
    for message in messages:
        await harness.publish(message)
        await harness.wait_processed(message)


async def due_times(harness: Harness) -> dict[str, tuple[str, datetime | None]]:
    rows = await harness.query("SELECT child_id, status, due_at FROM invitations WHERE team_ods = :t", t=harness.team)
    return {str(r.child_id): (r.status, r.due_at) for r in rows}


async def scheduled_items(harness: Harness) -> list[dict[str, Any]]:
    """The InvitationsScheduled items about the team seen so far, each read back through the contract."""
    await harness.observer.drain()
    items = []
    for message in harness.observer.of("InvitationsScheduled"):
        event = InvitationsScheduled.model_validate(message)
        assert len(event.invitations) <= MAX_BATCH
        items += [i.model_dump(mode="json") for i in event.invitations if i.team_ods == harness.team]
    return items


@pytest.mark.usefixtures("app")
async def test_moving_the_clinic_retimes_every_request_and_trigger_in_one_go(harness: Harness) -> None:
    session = uuid.uuid4()
    automatic = [requests(harness.team, 700), requests(harness.team, 700)]  # two requests: two keys
    staff = requests(harness.team, 300, InvitationTrigger.STAFF)
    await team_with_invitations(harness, session, date(2026, 3, 1), [*automatic, staff])
    before = await due_times(harness)
    staff_ids = {str(r.child_id) for r in staff}
    # Staff-triggered: the next day's window opening, whatever the first date; the rest 21 days before it.
    assert {before[c] for c in staff_ids} == {("scheduled", utc(2026, 1, 13, 9, 0))}
    assert {v for c, v in before.items() if c not in staff_ids} == {("scheduled", utc(2026, 2, 8, 9, 0))}
    await eventually(lambda: _count_at_least(harness, 1700), what="the first schedules")

    moved = clinic_dates(harness.team, [date(2026, 1, 20)], at=harness.clock.now(), session=session)
    await harness.publish(moved)
    await harness.wait_processed(moved)

    after = await due_times(harness)
    # Eight days away: automatic invitations are due now; staff ones stay at the next day's window opening.
    assert {after[c] for c in staff_ids} == {("scheduled", utc(2026, 1, 13, 9, 0))}
    assert {v for c, v in after.items() if c not in staff_ids} == {("scheduled", harness.clock.now())}

    async def retimed() -> list[dict[str, Any]]:
        found = [i for i in await scheduled_items(harness) if i["due_at"] == "2026-01-12T10:00:00Z"]
        return found if len(found) >= 1400 else []

    items = await eventually(retimed, what="an InvitationsScheduled item for every re-timed invitation")
    assert len(items) == 1400 and len({i["invitation_id"] for i in items}) == 1400
    assert {i["child_id"] for i in items} == set(after) - staff_ids
    assert {(i["kind"], tuple(i["programmes"]), i["academic_year"]) for i in items} == {("initial", ("flu",), YEAR)}


async def _count_at_least(harness: Harness, count: int) -> bool:
    return len(await scheduled_items(harness)) >= count


@pytest.mark.usefixtures("app")
async def test_retiming_unchanged_dates_changes_nothing_and_publishes_nothing(harness: Harness) -> None:
    session = uuid.uuid4()
    await team_with_invitations(harness, session, date(2026, 3, 1), [requests(harness.team, 50)])
    await eventually(lambda: _count_at_least(harness, 50), what="the first schedules")
    stamps = "SELECT id, updated_at FROM invitations WHERE team_ods = :t ORDER BY id"
    rows = await harness.query(stamps, t=harness.team)
    harness.clock.set(utc(2026, 1, 12, 11, 0))  # a re-timing that wrote anything would stamp this
    same = clinic_dates(harness.team, [date(2026, 3, 1)], at=harness.clock.now(), session=session)
    await harness.publish(same)
    await harness.wait_processed(same)
    assert await harness.query(stamps, t=harness.team) == rows
    later = clinic_dates(harness.team, [date(2026, 3, 15)], at=harness.clock.now(), session=session)
    await harness.publish(later)
    await harness.wait_processed(later)
    assert set((await due_times(harness)).values()) == {("scheduled", utc(2026, 2, 22, 9, 0))}
    items = await eventually(lambda: _items_after(harness, 100), what="the re-timed items")
    # 50 first schedules, then 50 for the move; the unchanged dates published nothing.
    assert sorted({i["due_at"] for i in items}) == ["2026-02-08T09:00:00Z", "2026-02-22T09:00:00Z"]
    assert len(items) == 100


async def _items_after(harness: Harness, count: int) -> list[dict[str, Any]]:
    items = await scheduled_items(harness)
    return items if len(items) >= count else []


async def _blocked_on_a_row_lock(engine: AsyncEngine) -> bool:
    """Some backend of this database waits for another transaction (the re-timing, on a claimed row)."""
    async with engine.connect() as conn:
        waiting = await conn.execute(
            text(
                "SELECT count(*) FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid"
                " WHERE NOT l.granted AND l.locktype = 'transactionid' AND a.datname = current_database()"
            )
        )
        return bool(waiting.scalar_one())


async def test_rows_claimed_by_a_dispatcher_are_sent_or_retimed_never_both(
    start_app: Any, harness: Harness, engine: AsyncEngine
) -> None:
    """One claim commits (its rows are `sending`: left alone), one rolls back (its rows are re-timed)."""
    await start_app(dispatcher_enabled=False)
    session = uuid.uuid4()
    await team_with_invitations(harness, session, date(2026, 1, 20), [requests(harness.team, 100)])  # due now
    sessions = session_factory(engine)
    now = harness.clock.now()
    async with sessions() as sending, sessions() as failing:
        await sending.begin()
        await failing.begin()
        sent = await InvitationRepository(sending).claim_due(now, 10)
        lost = await InvitationRepository(failing).claim_due(now, 10)
        assert len(sent) == len(lost) == 10 and not {i.id for i in sent} & {i.id for i in lost}
        moved = clinic_dates(harness.team, [date(2026, 3, 1)], at=now, session=session)
        await harness.publish(moved)
        await eventually(lambda: _blocked_on_a_row_lock(engine), what="the re-timing waiting on a claimed row")
        assert not await harness.processed(moved)
        await InvitationRepository(sending).set_status([i.id for i in sent], InvitationStatus.SENDING, now)
        await sending.commit()
        await failing.rollback()
    await harness.wait_processed(moved)

    rows = await harness.query(
        "SELECT id, child_id, status, due_at FROM invitations WHERE team_ods = :t", t=harness.team
    )
    by_id = {str(r.id): (r.status, r.due_at) for r in rows}
    assert {by_id[i.id] for i in sent} == {("sending", now)}
    retimed = {v for i, v in by_id.items() if i not in {s.id for s in sent}}
    assert retimed == {("scheduled", utc(2026, 2, 8, 9, 0))}
    items = await eventually(lambda: _items_after(harness, 190), what="the re-timed items")
    moved_items = [i for i in items if i["due_at"] == "2026-02-08T09:00:00Z"]
    assert len(moved_items) == 90
    assert {i["invitation_id"] for i in moved_items} == {i for i in by_id if i not in {s.id for s in sent}}


async def _waiting_for_an_advisory_lock(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        waiting = await conn.execute(
            text(
                "SELECT count(*) FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid"
                " WHERE NOT l.granted AND l.locktype = 'advisory' AND a.datname = current_database()"
            )
        )
        return bool(waiting.scalar_one())


async def test_an_invitation_timed_during_a_retiming_gets_the_new_dates(
    start_app: Any, harness: Harness, engine: AsyncEngine
) -> None:
    """Timed from the old dates while the re-timing was uncommitted, it would keep them: it waits instead."""
    app = await start_app(dispatcher_enabled=False)
    session = uuid.uuid4()
    await team_with_invitations(harness, session, date(2026, 3, 1), [requests(harness.team, 5)])
    moved = clinic_dates(harness.team, [date(2026, 3, 15)], at=harness.clock.now(), session=session)
    late = invite(*requests(harness.team, 1), at=harness.clock.now())
    async with app.context.get("wiring").new_uow() as uow:
        await uow.copies.save_clinic_dates(moved)
        assert await retiming.retime(uow, harness.clock.now(), team_ods=harness.team, year=YEAR, cause=None) == 5
        await harness.publish(late)
        await eventually(lambda: _waiting_for_an_advisory_lock(engine), what="the invitation waiting")
        assert not await harness.processed(late)
        await uow.commit()
    await harness.wait_processed(late)
    assert set((await due_times(harness)).values()) == {("scheduled", utc(2026, 2, 22, 9, 0))}
