"""The membership merge consent spells in SQL (bulk.upsert_memberships) is the domain's merge_memberships."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consent import bulk
from consent.domain import Membership, merge_memberships
from msgkit.db import create_engine

pytestmark = pytest.mark.integration


@pytest.fixture
async def session(consent_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(consent_url, schema="consent", pool_size=1)
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            yield session
            await session.rollback()
    finally:
        await engine.dispose()


async def test_memberships_widen_in_sql_as_in_the_domain(session: AsyncSession) -> None:
    child, other = uuid.uuid4(), uuid.uuid4()

    def joined(who: uuid.UUID, year: int, programmes: tuple[str, ...], on: date) -> Membership:
        return Membership(who, "RSQL", year, programmes, on)

    batches = [
        [joined(child, 2025, ("hpv",), date(2025, 10, 2)), joined(other, 2025, ("flu",), date(2025, 10, 2))],
        [joined(child, 2025, ("flu", "mmr"), date(2025, 10, 1))],
        [joined(child, 2025, ("hpv",), date(2025, 10, 3)), joined(child, 2026, ("flu",), date(2026, 9, 1))],
    ]
    for batch in batches:
        await bulk.upsert_memberships(session, merge_memberships(batch))
    rows = await session.execute(
        text("SELECT * FROM clinic_memberships WHERE child_id = ANY(:ids) ORDER BY child_id, academic_year"),
        {"ids": [child, other]},
    )
    stored = [Membership(r.child_id, r.team_ods, r.academic_year, tuple(r.programmes), r.joined_on) for r in rows]
    expected = merge_memberships(m for batch in batches for m in batch)
    assert stored == sorted(expected, key=lambda m: (m.child_id, m.academic_year))
