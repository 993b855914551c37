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

from notify.copies import any_id
from notify.domain.invitations import UNSENT, Invitation, InvitationStatus
from notify.tables import invitation_ledger, invitations

# Ledger rows for every requested programme, in one statement; what conflicts was invited before.
_CLAIM_LEDGER = """
    WITH claimed AS (
        INSERT INTO invitation_ledger (child_id, team_ods, academic_year, programme, invitation_id)
        SELECT u.child_id, u.team_ods, u.academic_year, p.programme, u.id
        FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::integer[], $5::text[])
             AS u(id, child_id, team_ods, academic_year, programmes)
        CROSS JOIN LATERAL unnest(string_to_array(u.programmes, ',')) AS p(programme)
        ON CONFLICT DO NOTHING
        RETURNING invitation_id, programme
    )
    SELECT invitation_id::text, string_agg(programme, ',') FROM claimed GROUP BY invitation_id
"""

_ADD_INVITATIONS = """
    INSERT INTO invitations (id, child_id, team_ods, academic_year, programmes, kind, trigger, reason,
                             requested_by, requested_at, status, due_at, updated_at)
    SELECT u.id, u.child_id, u.team_ods, u.academic_year, string_to_array(u.programmes, ','), u.kind, u.trigger,
           u.reason, u.requested_by, u.requested_at, u.status, u.due_at, $13
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::integer[], $5::text[], $6::text[], $7::text[], $8::text[],
                $9::text[], $10::timestamptz[], $11::text[], $12::timestamptz[])
         AS u(id, child_id, team_ods, academic_year, programmes, kind, trigger, reason, requested_by,
              requested_at, status, due_at)
"""


async def driver(session: AsyncSession) -> Any:
    """The asyncpg connection under the session's transaction: bulk statements skip SQLAlchemy's row layer."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


# One retime of a team at a time, whichever replica and message (TeamUpdated, ClinicDatesChanged): two
# set-wise updates of the same rows in different orders could otherwise deadlock each other.
_RETIME_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended('notify.retime:' || CAST(:team AS text), 0))")
# Shared by transactions that time new invitations from a team's dates: a re-timing waits for them to
# commit (and then re-times what they added), and they wait for a re-timing to commit (and then read its
# dates), so no invitation keeps a due time from dates a concurrent re-timing replaced.
_TIMING_LOCK = text(
    "SELECT pg_advisory_xact_lock_shared(hashtextextended('notify.retime:' || t, 0))"
    " FROM unnest(CAST(:teams AS text[])) WITH ORDINALITY AS u(t, n) ORDER BY n"
)

# Everything a due time depends on besides the team's settings and clinic dates, as one text: a
# 100,000-child import is a few hundred requests, so its re-timing is a few hundred due times to work out.
_KEY = (
    "CAST(i.academic_year AS text) || '|' || array_to_string(i.programmes, ',') || '|' || i.trigger || '|'"
    " || CAST(CAST(extract(epoch FROM i.requested_at) * 1000000 AS bigint) AS text)"
)
_UNSENT_KEYS = f"""
    SELECT DISTINCT {_KEY} AS key, i.academic_year, array_to_string(i.programmes, ',') AS programmes, i.trigger,
           i.requested_at
    FROM invitations AS i
    WHERE i.team_ods = :team AND i.status IN ('waiting', 'scheduled') {{year}}
"""

# The new due time of every unsent invitation of the team in one statement: each row's key is looked up
# in a JSON object of [status, due time, due time as the event writes it]. A lookup, not a join on the
# keys: a team imported a moment ago has no statistics yet, and the nested loop over keys x rows the
# planner then chose took 10 s at 100,000. PostgreSQL also builds the InvitationsScheduled items of the
# rows that changed, a thousand to an event (each follows ScheduledInvitation field for field).
# A plain UPDATE, not SKIP LOCKED: a row a dispatcher has claimed is waited for and its WHERE re-checked
# once that commits, so a row expanded meanwhile (now `sending`) is left alone and one whose claim rolled
# back is still re-timed.
_RETIME_TEAM = f"""
    WITH wanted AS MATERIALIZED (
        SELECT i.id, CAST(:due AS jsonb) -> ({_KEY}) AS v
        FROM invitations AS i
        WHERE i.team_ods = :team AND i.status IN ('waiting', 'scheduled') {{year}}
    ), timed AS MATERIALIZED (
        SELECT id, v ->> 0 AS status, CAST(v ->> 1 AS timestamptz) AS due_at, v ->> 2 AS due_json
        FROM wanted WHERE v IS NOT NULL
    ), changed AS (
        UPDATE invitations AS i SET status = t.status, due_at = t.due_at, updated_at = :now
        FROM timed AS t
        WHERE i.id = t.id AND i.status IN ('waiting', 'scheduled')
          AND (i.status, i.due_at) IS DISTINCT FROM (t.status, t.due_at)
        RETURNING i.id, i.child_id, i.team_ods, i.programmes, i.academic_year, i.kind, i.due_at, t.due_json
    ), numbered AS (
        SELECT c.*, (row_number() OVER () - 1) / :per_event AS chunk FROM changed AS c
    )
    SELECT count(*) AS changed, COALESCE(bool_or(due_at <= :now), false) AS due_now,
           CAST(json_agg(json_build_object(
               'invitation_id', id, 'child_id', child_id, 'team_ods', team_ods, 'programmes', programmes,
               'academic_year', academic_year, 'kind', kind, 'due_at', due_json)) AS text) AS items
    FROM numbered GROUP BY chunk
"""


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


_CANCEL = text(
    """
    UPDATE invitations AS i SET status = 'cancelled', cancel_reason = u.reason, updated_at = :now
    FROM unnest(CAST(:ids AS uuid[]), CAST(:reasons AS text[])) AS u(id, reason)
    WHERE i.id = u.id
    """
)

# Sent once any of its messages is accepted. Once none is left that could be: cancelled (with the reason of
# its first cancelled message) if any was cancelled, since its purpose is gone; else failed.
_SETTLE = text(
    """
    WITH outcome AS (
        SELECT i.id,
               COALESCE(bool_or(n.status IN ('sent', 'delivered')), false) AS sent,
               COALESCE(bool_or(n.status IN ('pending', 'sending')), false) AS open,
               (array_agg(n.cancel_reason ORDER BY n.completed_at) FILTER (WHERE n.status = 'cancelled'))[1] AS reason
        FROM invitations AS i LEFT JOIN notifications AS n ON n.invitation_id = i.id
        WHERE i.id = ANY(CAST(:ids AS uuid[])) AND i.status = 'sending'
        GROUP BY i.id
    )
    UPDATE invitations AS i
    SET status = CASE WHEN o.sent THEN 'sent' WHEN o.reason IS NOT NULL THEN 'cancelled' ELSE 'failed' END,
        cancel_reason = CASE WHEN NOT o.sent THEN o.reason END,
        updated_at = :now
    FROM outcome AS o
    WHERE i.id = o.id AND i.status = 'sending' AND (o.sent OR NOT o.open)
    RETURNING i.*
    """
)


class InvitationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim_ledger(self, drafts: Sequence[Invitation]) -> dict[str, set[str]]:
        """Ledger rows for each draft's programmes; returns, per invitation id, the programmes not invited before."""
        if not drafts:
            return {}
        rows = await (await driver(self.session)).fetch(
            _CLAIM_LEDGER,
            [d.id for d in drafts],
            [d.child_id for d in drafts],
            [d.team_ods for d in drafts],
            [d.academic_year for d in drafts],
            [",".join(d.programmes) for d in drafts],
        )
        return {invitation_id: set(programmes.split(",")) for invitation_id, programmes in rows}

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
            _ADD_INVITATIONS,
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
        await self.session.execute(_RETIME_LOCK, {"team": team_ods})

    async def lock_teams_timing(self, team_ods: Iterable[str]) -> None:
        """Held until the transaction ends: no re-timing of these teams runs meanwhile (taken in one order)."""
        teams = sorted(set(team_ods))
        if teams:
            await self.session.execute(_TIMING_LOCK, {"teams": teams})

    async def unsent_keys(self, *, team_ods: str, year: int | None) -> list[RetimeKey]:
        sql = _UNSENT_KEYS.format(year="" if year is None else "AND i.academic_year = :year")
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
        sql = _RETIME_TEAM.format(year="" if year is None else "AND i.academic_year = :year")
        result = await self.session.stream(text(sql), params)
        async for r in result:
            yield Retimed(int(r.changed), bool(r.due_now), r.items)

    async def cancel(self, items: Sequence[tuple[Invitation, str]], now: datetime) -> None:
        if items:
            ids = [i.id for i, _ in items]
            await self.session.execute(_CANCEL, {"now": now, "ids": ids, "reasons": [r for _, r in items]})
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
        rows = (await self.session.execute(_SETTLE, {"now": now, "ids": unique})).all()
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
