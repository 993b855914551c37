"""Issue 19, item 19: an import's statements are planned for what is there now, never by a cached plan.

asyncpg prepares every statement once per connection, and PostgreSQL plans a prepared statement afresh
for its first five executions, then may keep a generic plan made without the parameters' values. With
tables never analysed (autovacuum off, as on CI's server) a long-running service's generic plan for the
import's match ran a nested loop over 100,000 x 100,000 rows for minutes. Here seven imports go through
one connection, as they would through a service's pool over an afternoon, and PostgreSQL's own count of
the plans it used says none was generic.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cohort.import_services import commit_import, stage_chunk
from cohort.tables import messaging
from cohort.uow import CohortUnitOfWork
from contracts.cohort import CommitCohortImport, ImportCohortChunk
from msgkit.clock import FixedClock
from msgkit.db import create_engine, session_factory

from ..cohort_support import HEADER, child_row, new_team

pytestmark = pytest.mark.integration

IMPORTS = 7  # past the five custom plans PostgreSQL makes before it may switch to a generic one


@pytest.fixture
async def one_connection(cohort_database: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(cohort_database, schema="cohort", pool_size=1)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def _import(uow: CohortUnitOfWork, team: str, rows: list[tuple[int, list[str]]], clock: FixedClock) -> None:
    import_id = uuid.uuid4()
    chunk = ImportCohortChunk(import_id=import_id, team_ods=team, sequence=0, header=HEADER, rows=rows)
    assert (await stage_chunk(chunk, uow, clock.now())).ok
    reply = await commit_import(CommitCohortImport(import_id=import_id, team_ods=team), uow, clock.now())
    assert reply.ok, reply.error


async def test_an_import_s_statements_are_never_run_with_a_generic_plan(
    one_connection: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    uow = CohortUnitOfWork(one_connection, messaging, consumer="cohort")
    team = new_team()
    for n in range(IMPORTS):
        # New children each time, the earlier ones again: every statement has rows to match and apply.
        rows = [
            (r + 2, child_row(r, urn="888888" if r % 2 else "100001", seed=r + 60_000)) for r in range(20 * (n + 1))
        ]
        await _import(uow, team, rows, clock)
    async with one_connection() as session:
        found = await session.execute(
            text(
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE '%import_rows%'"
            )
        )
        plans = {r.statement: (r.generic_plans, r.custom_plans) for r in found}
    matching = [s for s in plans if "matched_on = 'nhs_number' FROM children c" in s]
    assert matching and plans[matching[0]][1] >= IMPORTS, plans  # the same prepared statement, every time
    # A statement without parameters (ANALYZE, this query) has only one plan, which PostgreSQL counts as generic.
    assert {s: p for s, p in plans.items() if p[0] and "$1" in s} == {}
