"""Every status rule the repositories' SQL enforces, run beside its Python twin in the domain on the same cases.

The SQL guards are rendered from the domain's moves and statuses; these tests show the SQL then says what the
domain says, status by status. Each case runs in a transaction that is rolled back.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from msgkit.db import session_factory
from notify.domain.invitations import UNSENT, Invitation, InvitationStatus, settled_status
from notify.domain.notifications import CANCEL, CLAIM, FAIL, RETRY, SEND, Move, Notification, NotificationStatus
from notify.persistence.invitations import InvitationRepository
from notify.persistence.notifications import NotificationRepository

pytestmark = pytest.mark.integration

NOW = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)  # due before anything else in the database


@asynccontextmanager
async def rolled_back(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(engine)() as session:
        await session.begin()
        try:
            yield session
        finally:
            await session.rollback()


def note(status: NotificationStatus, invitation_id: str | None = None) -> Notification:
    notification_id = str(uuid.uuid4())
    return Notification(
        id=notification_id, reference=notification_id, child_id=str(uuid.uuid4()), team_ods="SQLRULES",
        kind="consent_clinic_request", channel="email", to="p@example.com", template_id="t",
        personalisation={"programmes": "flu"}, next_attempt_at=LONG_AGO, invitation_id=invitation_id,
        programmes=("flu",), academic_year=2025, status=status,
    )  # fmt: skip


async def one_of_each(session: AsyncSession) -> dict[str, NotificationStatus]:
    """A notification in every status, each begun long ago; returns their statuses by id."""
    notes = [note(s) for s in NotificationStatus]
    await NotificationRepository(session).add(notes, NOW)
    ids = [n.id for n in notes]
    await session.execute(
        text("UPDATE notifications SET attempt_started_at = :t WHERE id = ANY(CAST(:ids AS uuid[]))"),
        {"t": LONG_AGO, "ids": ids},
    )
    return {n.id: n.status for n in notes}


async def marked(session: AsyncSession, ids: Sequence[str], error: str) -> set[str]:
    rows = await session.execute(
        text("SELECT id FROM notifications WHERE id = ANY(CAST(:ids AS uuid[])) AND last_error = :e"),
        {"ids": list(ids), "e": error},
    )
    return {str(r.id) for r in rows}


async def _sent(repo: NotificationRepository, ids: list[str]) -> set[str]:
    return {s.id for s in await repo.mark_sent([(i, f"provider-{i}") for i in ids], NOW)}


async def _failed(repo: NotificationRepository, ids: list[str]) -> set[str]:
    return {s.id for s in await repo.fail([(i, NotificationStatus.TECHNICAL_FAILURE, "failed") for i in ids], NOW)}


async def _cancelled(repo: NotificationRepository, ids: list[str]) -> set[str]:
    return {s.id for s in await repo.cancel([(i, "purpose gone") for i in ids], NOW)}


async def _retried(repo: NotificationRepository, ids: list[str]) -> set[str]:
    await repo.retry([(i, NOW, True, "retried") for i in ids])
    return await marked(repo.session, ids, "retried")


async def _recovered(repo: NotificationRepository, ids: list[str]) -> set[str]:
    await repo.recover_stale(NOW, timedelta(minutes=2))
    return await marked(repo.session, ids, "attempt interrupted")


async def _claimed(repo: NotificationRepository, ids: list[str]) -> set[str]:
    return {n.id for n in await repo.claim_due(NOW, 10_000)} & set(ids)


Apply = Callable[[NotificationRepository, list[str]], Any]
MOVES: list[tuple[str, Move, Apply]] = [
    ("mark_sent", SEND, _sent),
    ("fail", FAIL, _failed),
    ("cancel", CANCEL, _cancelled),
    ("retry", RETRY, _retried),
    ("recover_stale", RETRY, _recovered),
    ("claim_due", CLAIM, _claimed),
]


@pytest.mark.parametrize(("method", "move", "apply"), MOVES, ids=[m for m, _, _ in MOVES])
async def test_each_notification_move_leaves_the_statuses_the_domain_allows(
    engine: AsyncEngine, method: str, move: Move, apply: Apply
) -> None:
    async with rolled_back(engine) as session:
        statuses = await one_of_each(session)
        changed = await apply(NotificationRepository(session), list(statuses))
    assert changed == {i for i, status in statuses.items() if move.allows(status)}, method


async def test_only_claimable_messages_are_narrowed_as_the_domain_says(engine: AsyncEngine) -> None:
    async with rolled_back(engine) as session:
        statuses = await one_of_each(session)
        notes = [replace(note(s), id=i, programmes=("hpv",)) for i, s in statuses.items()]
        await NotificationRepository(session).narrow(notes)
        rows = await session.execute(
            text("SELECT id FROM notifications WHERE id = ANY(CAST(:ids AS uuid[])) AND programmes = '{hpv}'"),
            {"ids": list(statuses)},
        )
        narrowed = {str(r.id) for r in rows}
    assert narrowed == {i for i, status in statuses.items() if CLAIM.allows(status)}


def invitation(status: InvitationStatus, *, team: str, requested_at: datetime) -> Invitation:
    return Invitation(
        id=str(uuid.uuid4()), child_id=str(uuid.uuid4()), team_ods=team, academic_year=2025, programmes=("flu",),
        kind="initial", trigger="automatic", reason="unknown_school", requested_at=requested_at, status=status,
        due_at=NOW if status != InvitationStatus.WAITING else None,
    )  # fmt: skip


def may_retime(status: InvitationStatus) -> bool:
    try:
        invitation(status, team="-", requested_at=NOW).schedule(NOW + timedelta(days=1))
    except Exception:
        return False
    return True


async def test_only_the_invitations_the_domain_may_retime_are_unsent_and_retimed(engine: AsyncEngine) -> None:
    team = f"R{uuid.uuid4().hex[:6].upper()}"
    items = [invitation(s, team=team, requested_at=NOW - timedelta(hours=n)) for n, s in enumerate(InvitationStatus)]
    later = NOW + timedelta(days=1)
    async with rolled_back(engine) as session:
        repo = InvitationRepository(session)
        await repo.add(items, NOW)
        unsent = {i.id for i in await repo.unsent(team_ods=team)}
        keys = await repo.unsent_keys(team_ods=team, year=None)
        due = [(k, later, later.isoformat()) for k in keys]
        [_ async for _ in repo.retime_team(team_ods=team, year=None, due=due, now=NOW, per_event=1000)]
        moved = text("SELECT id FROM invitations WHERE team_ods = :t AND due_at = :d")
        retimed = {str(r.id) for r in await session.execute(moved, {"t": team, "d": later})}
    expected = {i.id for i in items if i.status in UNSENT}
    assert unsent == retimed == expected == {i.id for i in items if may_retime(i.status)}
    assert {k.requested_at for k in keys} == {i.requested_at for i in items if i.id in expected}


CASES = [(), *itertools.combinations_with_replacement(NotificationStatus, 2), *((s,) for s in NotificationStatus)]


async def test_an_invitation_settles_from_its_messages_as_the_domain_says(engine: AsyncEngine) -> None:
    team = f"S{uuid.uuid4().hex[:6].upper()}"
    sending = [invitation(InvitationStatus.SENDING, team=team, requested_at=NOW) for _ in CASES]
    notes = [note(s, i.id) for i, case in zip(sending, CASES, strict=True) for s in case]
    async with rolled_back(engine) as session:
        await InvitationRepository(session).add(sending, NOW)
        await NotificationRepository(session).add(notes, NOW)
        gone = text(
            "UPDATE notifications SET cancel_reason = 'gone', completed_at = :t WHERE id = ANY(CAST(:ids AS uuid[]))"
        )
        cancelled = [n.id for n in notes if n.status == NotificationStatus.CANCELLED]
        await session.execute(gone, {"t": NOW, "ids": cancelled})
        await InvitationRepository(session).settle([i.id for i in sending], NOW)
        rows = await session.execute(text("SELECT id, status FROM invitations WHERE team_ods = :t"), {"t": team})
        found = {str(r.id): r.status for r in rows}
    expected = {
        i.id: str(settled_status(case) or InvitationStatus.SENDING) for i, case in zip(sending, CASES, strict=True)
    }
    assert found == expected


async def test_only_an_invitation_being_sent_is_settled(engine: AsyncEngine) -> None:
    team = f"T{uuid.uuid4().hex[:6].upper()}"
    others = [invitation(s, team=team, requested_at=NOW) for s in InvitationStatus if s != InvitationStatus.SENDING]
    async with rolled_back(engine) as session:
        await InvitationRepository(session).add(others, NOW)
        await NotificationRepository(session).add([note(NotificationStatus.SENT, i.id) for i in others], NOW)
        await InvitationRepository(session).settle([i.id for i in others], NOW)
        rows = await session.execute(text("SELECT id, status FROM invitations WHERE team_ods = :t"), {"t": team})
        found = {str(r.id): r.status for r in rows}
    assert found == {i.id: str(i.status) for i in others}
