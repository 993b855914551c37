"""Checking a staged import before anything is applied: its rows' errors, who each row's child is, and
what each row does (held for review included)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from cohort import import_match_sql as sql
from cohort.import_rules import ImportPlan
from cohort.importer import CHILD_DATE_OF_BIRTH, CHILD_NHS_NUMBER, CHILD_YEAR_GROUP, RowError
from cohort.tables import import_errors
from contracts.common import YEAR_GROUPS, Programme, birth_dates_for

REPEATED_NHS_NUMBER = "The same NHS number appears multiple times in this file"
NOT_IN_PROGRAMME = "is not part of this programme"
AMBIGUOUS = "Two or more existing children match this row's first name, last name, date of birth or postcode"


def plan_params(plan: ImportPlan) -> dict[str, Any]:
    """The import's programmes with their year groups and birth dates, for sql.PLAN_PROGRAMMES."""
    bounds = [birth_dates_for(p, plan.academic_year) for p in plan.programmes]
    groups = [YEAR_GROUPS[Programme(p)] for p in plan.programmes]
    return {
        "programmes": list(plan.programmes),
        "first_born": [first for first, _ in bounds],
        "last_born": [last for _, last in bounds],
        "lowest": [g[0] for g in groups],
        "highest": [g[-1] for g in groups],
    }


class ImportChecks:
    """The checks of a commit, run in its first transaction (`ImportRepository.checks`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def analyse(self) -> None:
        """Give the planner the staged rows' real numbers before the set-wise statements run over them.

        The import's rows arrived moments ago, faster than autovacuum (where it runs at all) analyses; the
        per-batch statements choose an index or a scan by how many of them a batch holds.
        """
        await self.session.execute(text("ANALYZE import_rows"))

    async def errors(self, import_id: uuid.UUID, plan: ImportPlan) -> list[RowError]:
        """Every error a row has alone or beside the rest of the file: its fields' (found as it was staged),
        an NHS number another row has too, a child no programme of the import is for."""
        e = import_errors.c
        staged = await self.session.execute(select(e.row_number, e.column, e.message).where(e.import_id == import_id))
        found = [RowError(r.row_number, r.column, r.message) for r in staged]
        repeated = await self.session.execute(sql.REPEATED_NHS_NUMBERS, {"id": import_id})
        found += [RowError(n, CHILD_NHS_NUMBER, REPEATED_NHS_NUMBER) for n in repeated.scalars()]
        outside = await self.session.execute(sql.OUTSIDE_YEAR_GROUPS, {"id": import_id, **plan_params(plan)})
        found += [
            RowError(r.row_number, CHILD_YEAR_GROUP if r.by_year_group else CHILD_DATE_OF_BIRTH, NOT_IN_PROGRAMME)
            for r in outside
        ]
        return sorted(found, key=lambda error: (error.row, error.column, error.message))

    async def match(self, import_id: uuid.UUID, team_ods: str) -> list[RowError]:
        """Find each row's existing child; returns errors for rows that may be several children, or are the
        same child as another row."""
        params = {"id": import_id, "team": team_ods}
        # Hash joins are linear whatever the planner believes; a nested loop chosen on stale statistics
        # (or a cached generic plan) once took minutes over 100,000 rows and 100,000 children.
        await self.session.execute(text("SET LOCAL enable_nestloop = off"))
        await self.session.execute(sql.MATCH_BY_NHS_NUMBER, params)
        ambiguous = (await self.session.execute(sql.MATCH_BY_DETAILS, params)).scalars().all()
        await self.session.execute(text("SET LOCAL enable_nestloop = DEFAULT"))
        twins = (await self.session.execute(sql.DUPLICATES, {"id": import_id})).all()
        found = [RowError(n, "", AMBIGUOUS) for n in ambiguous]
        found += [RowError(r.row_number, "", f"is the same child as row {r.first_row}") for r in twins]
        return sorted(found, key=lambda error: (error.row, error.column))

    async def classify(self, import_id: uuid.UUID, team_ods: str) -> int:
        """Give new children their ids, mark each row created, updated, unchanged or held for review, and
        copy the held rows (what they uploaded) to import_reviews; returns how many are held."""
        await self.session.execute(sql.CLASSIFY, {"id": import_id})
        held = await self.session.execute(sql.HOLD_FOR_REVIEW, {"id": import_id, "team": team_ods})
        return int(held.rowcount)  # type: ignore[attr-defined]
