"""Bulk upserts of the local copies: one statement per batch, each column passed as one array.

Batches are up to 1,000 children. Passing columns as arrays to `unnest` keeps per-row work out of Python
(SQLAlchemy's executemany builds and processes parameters row by row, which dominated a 100,000-child run).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from consent.domain import Child, Membership

_UPSERT_CHILDREN = text("""
    INSERT INTO children (child_id, team_ods, deceased, restricted, invalidated, archived, match_key, first_name,
                          last_name, source_at)
    SELECT u.child_id, u.team_ods, u.deceased, u.restricted, u.invalidated, u.archived, u.match_key, u.first_name,
           u.last_name, CAST(:source_at AS timestamptz)
    FROM unnest(
        CAST(:child_id AS uuid[]), CAST(:team_ods AS varchar[]), CAST(:deceased AS boolean[]),
        CAST(:restricted AS boolean[]), CAST(:invalidated AS boolean[]), CAST(:archived AS boolean[]),
        CAST(:match_key AS varchar[]), CAST(:first_name AS varchar[]), CAST(:last_name AS varchar[])
    ) AS u(child_id, team_ods, deceased, restricted, invalidated, archived, match_key, first_name, last_name)
    ON CONFLICT (child_id) DO UPDATE SET
        team_ods = excluded.team_ods, deceased = excluded.deceased, restricted = excluded.restricted,
        invalidated = excluded.invalidated, archived = excluded.archived, match_key = excluded.match_key,
        first_name = excluded.first_name, last_name = excluded.last_name, source_at = excluded.source_at
    WHERE children.source_at <= excluded.source_at
    RETURNING child_id
""")

_DELETE_PARENTS = text("DELETE FROM parents WHERE child_id = ANY(CAST(:child_id AS uuid[]))")

_INSERT_PARENTS = text("""
    INSERT INTO parents (child_id, parent_id, has_email, has_phone, receive_updates, email_key, phone_key)
    SELECT * FROM unnest(
        CAST(:child_id AS uuid[]), CAST(:parent_id AS uuid[]), CAST(:has_email AS boolean[]),
        CAST(:has_phone AS boolean[]), CAST(:receive_updates AS boolean[]), CAST(:email_key AS varchar[]),
        CAST(:phone_key AS varchar[])
    )
""")

# Joining again for more programmes widens the membership; the earliest start date is kept.
_UPSERT_MEMBERSHIPS = text("""
    INSERT INTO clinic_memberships (child_id, team_ods, academic_year, programmes, joined_on)
    SELECT u.child_id, u.team_ods, u.academic_year, string_to_array(u.programmes, ','), u.joined_on
    FROM unnest(
        CAST(:child_id AS uuid[]), CAST(:team_ods AS varchar[]), CAST(:academic_year AS integer[]),
        CAST(:programmes AS text[]), CAST(:joined_on AS date[])
    ) AS u(child_id, team_ods, academic_year, programmes, joined_on)
    ON CONFLICT (child_id, team_ods, academic_year) DO UPDATE SET
        programmes = ARRAY(
            SELECT DISTINCT p FROM unnest(clinic_memberships.programmes || excluded.programmes) AS p ORDER BY p
        ),
        joined_on = LEAST(clinic_memberships.joined_on, excluded.joined_on)
""")


async def upsert_children(session: AsyncSession, batch: Sequence[Child], source_at: datetime) -> set[uuid.UUID]:
    """Write children newer than the copies held, and replace their parents; returns the ids written."""
    latest = list({c.child_id: c for c in batch}.values())  # ON CONFLICT may touch a row only once
    columns = {
        "child_id": [c.child_id for c in latest],
        "team_ods": [c.team_ods for c in latest],
        "deceased": [c.deceased for c in latest],
        "restricted": [c.restricted for c in latest],
        "invalidated": [c.invalidated for c in latest],
        "archived": [c.archived for c in latest],
        "match_key": [c.match_key for c in latest],
        "first_name": [c.first_name for c in latest],
        "last_name": [c.last_name for c in latest],
        "source_at": source_at,
    }
    changed = set((await session.execute(_UPSERT_CHILDREN, columns)).scalars())
    if not changed:
        return changed
    await session.execute(_DELETE_PARENTS, {"child_id": list(changed)})
    pairs = [
        (c.child_id, p) for c in latest if c.child_id in changed for p in {p.parent_id: p for p in c.parents}.values()
    ]
    if pairs:
        await session.execute(
            _INSERT_PARENTS,
            {
                "child_id": [child_id for child_id, _ in pairs],
                "parent_id": [p.parent_id for _, p in pairs],
                "has_email": [p.has_email for _, p in pairs],
                "has_phone": [p.has_phone for _, p in pairs],
                "receive_updates": [p.receive_updates for _, p in pairs],
                "email_key": [p.email_key for _, p in pairs],
                "phone_key": [p.phone_key for _, p in pairs],
            },
        )
    return changed


async def upsert_memberships(session: AsyncSession, rows: Sequence[Membership]) -> None:
    """Add or widen memberships (at most one per child, team and year in `rows`)."""
    await session.execute(
        _UPSERT_MEMBERSHIPS,
        {
            "child_id": [m.child_id for m in rows],
            "team_ods": [m.team_ods for m in rows],
            "academic_year": [m.academic_year for m in rows],
            "programmes": [",".join(m.programmes) for m in rows],
            "joined_on": [m.joined_on for m in rows],
        },
    )
