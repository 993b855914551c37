"""The invitation ledger and invitations: bulk writes with unnest, claims with FOR UPDATE SKIP LOCKED."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from notify.domain.invitations import UNSENT, Invitation, InvitationStatus, PendingKey
from notify.persistence import invitations_sql
from notify.persistence.sql import any_id, driver
from notify.persistence.tables import invitation_ledger, invitations

# Re-timing streams its InvitationsScheduled events (a thousand items each) this many at a time.
EVENTS_IN_MEMORY = 2


@dataclass(frozen=True, slots=True)
class RetimeKey:
    """What an unsent invitation's due time depends on, besides its team's settings and clinic dates."""

    key: str  # as the statements match it
    academic_year: int
    programmes: tuple[str, ...]
    trigger: str
    requested_at: datetime


@dataclass(frozen=True, slots=True)
class Retimed:
    """One event's worth of re-timed invitations: how many, whether any is due now, their items as JSON."""

    count: int
    due_now: bool
    items_json: str


class InvitationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim_ledger(self, drafts: Sequence[Invitation]) -> dict[str, set[str]]:
        """Ledger rows for each draft's programmes; returns, per invitation id, the programmes not invited before."""
        if not drafts:
            return {}
        rows = await (await driver(self.session)).fetch(
            invitations_sql.CLAIM_LEDGER,
            [d.id for d in drafts],
            [d.child_id for d in drafts],
            [d.team_ods for d in drafts],
            [d.academic_year for d in drafts],
            [",".join(d.programmes) for d in drafts],
        )
        return {invitation_id: set(programmes.split(",")) for invitation_id, programmes in rows}

    async def not_yet_sent(self, repeats: Sequence[Invitation]) -> dict[PendingKey, set[str]]:
        """For staff repeats (after `claim_ledger`): one at a time per child, the programmes not yet sent."""
        if not repeats:
            return {}
        keys = sorted({(r.child_id, r.team_ods, r.academic_year) for r in repeats})
        columns = [list(column) for column in zip(*keys, strict=True)]
        connection = await driver(self.session)
        await connection.execute(invitations_sql.LOCK_LEDGER, *columns)
        pending: dict[PendingKey, set[str]] = {}
        for child, team, year, programme in await connection.fetch(invitations_sql.NOT_YET_SENT, *columns):
            pending.setdefault((child, team, year), set()).add(programme)
        return pending

    async def release_ledger(self, invitation_ids: Iterable[str]) -> None:
        """An invitation cancelled unsent invited nobody, so its programmes may be invited again."""
        ids = list(invitation_ids)
        if ids:
            await self.session.execute(
                delete(invitation_ledger).where(invitation_ledger.c.invitation_id == any_id(ids))
            )

    async def add(self, items: Sequence[Invitation], now: datetime) -> None:
        if not items:
            return
        await (await driver(self.session)).execute(
            invitations_sql.ADD_INVITATIONS,
            [i.id for i in items],
            [i.child_id for i in items],
            [i.team_ods for i in items],
            [i.academic_year for i in items],
            [",".join(i.programmes) for i in items],
            [i.kind for i in items],
            [i.trigger for i in items],
            [i.reason for i in items],
            [i.requested_by for i in items],
            [i.requested_at for i in items],
            [i.status.value for i in items],
            [i.due_at for i in items],
            now,
        )

    async def unsent(
        self,
        *,
        team_ods: str | None = None,
        year: int | None = None,
        child_ids: Iterable[str] | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Invitation]:
        """Unsent invitations in id order, locked; rows a dispatcher is sending right now are skipped."""
        statement = select(invitations).where(invitations.c.status.in_([str(s) for s in UNSENT]))
        if after is not None:
            statement = statement.where(invitations.c.id > uuid.UUID(after))
        statement = statement.order_by(invitations.c.id).limit(limit)
        if team_ods is not None:
            statement = statement.where(invitations.c.team_ods == team_ods)
        if year is not None:
            statement = statement.where(invitations.c.academic_year == year)
        if child_ids is not None:
            statement = statement.where(invitations.c.child_id == any_id(child_ids))
        rows = (await self.session.execute(statement.with_for_update(skip_locked=True))).all()
        return [_invitation(r) for r in rows]

    async def claim_due(self, now: datetime, limit: int) -> list[Invitation]:
        statement = (
            select(invitations)
            .where(invitations.c.status == str(InvitationStatus.SCHEDULED), invitations.c.due_at <= now)
            .order_by(invitations.c.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_invitation(r) for r in (await self.session.execute(statement)).all()]

    async def lock_team_retime(self, team_ods: str) -> None:
        """Held until the transaction ends: the team's unsent invitations are re-timed by one transaction at a time."""
        await self.session.execute(invitations_sql.RETIME_LOCK, {"team": team_ods})

    async def lock_teams_timing(self, team_ods: Iterable[str]) -> None:
        """Held until the transaction ends: no re-timing of these teams runs meanwhile (taken in one order)."""
        teams = sorted(set(team_ods))
        if teams:
            await self.session.execute(invitations_sql.TIMING_LOCK, {"teams": teams})

    async def unsent_keys(self, *, team_ods: str, year: int | None) -> list[RetimeKey]:
        sql = invitations_sql.UNSENT_KEYS.format(year="" if year is None else "AND i.academic_year = :year")
        params: dict[str, Any] = {"team": team_ods} | ({} if year is None else {"year": year})
        rows = (await self.session.execute(text(sql), params)).all()
        return [
            RetimeKey(r.key, r.academic_year, tuple(r.programmes.split(",")), r.trigger, r.requested_at) for r in rows
        ]

    async def retime_team(
        self,
        *,
        team_ods: str,
        year: int | None,
        due: Sequence[tuple[RetimeKey, datetime | None, str | None]],
        now: datetime,
        per_event: int,
    ) -> AsyncIterator[Retimed]:
        """Give every unsent invitation of the team (and year) the due time of its key, in one statement.

        `due` is (key, due time or None to wait, the due time as the event writes it). Yields the
        changed rows in events of `per_event` items, streamed from a server-side cursor: 100,000
        invitations are ~30 MB of items, which notify should not hold at once.
        """
        if not due:
            return
        by_key = {
            k.key: [str(InvitationStatus.WAITING if d is None else InvitationStatus.SCHEDULED), d and d.isoformat(), j]
            for k, d, j in due
        }
        params: dict[str, Any] = {"team": team_ods, "now": now, "per_event": per_event, "due": json.dumps(by_key)}
        params |= {} if year is None else {"year": year}
        sql = invitations_sql.RETIME_TEAM.format(year="" if year is None else "AND i.academic_year = :year")
        # A few events at a time: the cursor's default prefetch would hold every event of the team at once
        # (100,000 invitations are ~25 MB of items), which was notify's peak at national scale.
        result = await self.session.stream(text(sql), params, execution_options={"yield_per": EVENTS_IN_MEMORY})
        async for r in result:
            yield Retimed(int(r.changed), bool(r.due_now), r.items)

    async def cancel(self, items: Sequence[tuple[Invitation, str]], now: datetime) -> None:
        if items:
            ids = [i.id for i, _ in items]
            await self.session.execute(
                invitations_sql.CANCEL, {"now": now, "ids": ids, "reasons": [r for _, r in items]}
            )
            await self.release_ledger(ids)

    async def set_status(self, ids: Sequence[str], status: InvitationStatus, now: datetime) -> None:
        if ids:
            statement = update(invitations).where(invitations.c.id == any_id(ids))
            await self.session.execute(statement.values(status=str(status), updated_at=now))

    async def postpone(self, ids: Sequence[str], until: datetime, now: datetime) -> None:
        if ids:
            statement = update(invitations).where(invitations.c.id == any_id(ids))
            await self.session.execute(statement.values(due_at=until, updated_at=now))

    async def settle(self, ids: Iterable[str], now: datetime) -> list[Invitation]:
        """Settle expanded invitations from their messages; returns those that became cancelled (ledger freed)."""
        unique = sorted({i for i in ids if i})
        if not unique:
            return []
        rows = (await self.session.execute(invitations_sql.SETTLE, {"now": now, "ids": unique})).all()
        cancelled = [_invitation(r) for r in rows if r.status == str(InvitationStatus.CANCELLED)]
        await self.release_ledger(i.id for i in cancelled)
        return cancelled

    async def for_child(self, child_id: uuid.UUID) -> list[dict[str, Any]]:
        statement = select(invitations).where(invitations.c.child_id == child_id).order_by(invitations.c.created_at)
        return [
            {
                "invitation_id": str(r.id),
                "team_ods": r.team_ods,
                "academic_year": r.academic_year,
                "programmes": list(r.programmes),
                "kind": r.kind,
                "trigger": r.trigger,
                "status": r.status,
                "due_at": r.due_at.isoformat() if r.due_at else None,
                "cancel_reason": r.cancel_reason,
                "requested_at": r.requested_at.isoformat(),
            }
            for r in (await self.session.execute(statement)).all()
        ]


def _invitation(r: Any) -> Invitation:
    return Invitation(
        id=str(r.id),
        child_id=str(r.child_id),
        team_ods=r.team_ods,
        academic_year=r.academic_year,
        programmes=tuple(r.programmes),
        kind=r.kind,
        trigger=r.trigger,
        reason=r.reason,
        requested_at=r.requested_at,
        status=InvitationStatus(r.status),
        due_at=r.due_at,
        requested_by=r.requested_by,
        cancel_reason=r.cancel_reason,
    )
