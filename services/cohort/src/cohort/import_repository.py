"""Staging of cohort imports and their set-based application to children and clinic memberships."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cohort import import_sql as sql
from cohort.import_checks import ImportChecks, plan_params
from cohort.import_review_repository import ImportReviewRepository
from cohort.import_rules import ImportPlan, ImportStatus, child_identity, parent_id
from cohort.importer import CohortRow, RowError
from cohort.sql_text import literal
from cohort.tables import import_chunks, import_errors, imports


@dataclass(frozen=True, slots=True)
class ImportState:
    team_ods: str
    status: ImportStatus
    result: dict[str, Any] | None = None
    plan: ImportPlan | None = None
    applied_through: int = 0
    joined: int = 0


_STAGED_COLUMNS = [
    "import_id",
    "row_number",
    "nhs_number",
    "first_name",
    "last_name",
    "date_of_birth",
    "postcode",
    "school_urn",
    "year_group",
    "parents",
    "new_child_id",
]


def _staged(import_id: uuid.UUID, team_ods: str, row: CohortRow, new_child_id: uuid.UUID) -> tuple[Any, ...]:
    identity = child_identity(row.nhs_number, row.first_name, row.last_name, row.date_of_birth, row.postcode)
    parents = [
        {
            "parent_id": str(parent_id(team_ods, identity, position)),
            "name": p.name,
            "relationship": p.relationship,
            "email": p.email,
            "phone": p.phone,
        }
        for position, p in enumerate(row.parents, start=1)
    ]
    return (
        import_id,
        row.row_number,
        row.nhs_number,
        row.first_name,
        row.last_name,
        row.date_of_birth,
        row.postcode,
        row.school_urn,
        row.year_group,
        json.dumps(parents),
        new_child_id,
    )


@dataclass(frozen=True, slots=True)
class ImportJoins:
    """A batch's joins: how many, and as the JSON arrays of CohortJoin and InvitationRequest."""

    count: int
    joins: str | None
    invitations: str | None


class ImportRepository:
    """Imports are staged chunk by chunk (validated), then applied in batches, one transaction each."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.checks = ImportChecks(session)
        self.reviews = ImportReviewRepository(session)

    async def open(self, import_id: uuid.UUID, team_ods: str, *, at: datetime) -> ImportState:
        """The import, created on its first chunk and locked, so no chunk is staged once a commit has begun."""
        await self.session.execute(
            insert(imports).values(import_id=import_id, team_ods=team_ods, created_at=at).on_conflict_do_nothing()
        )
        state = await self.state(import_id, for_update=True)
        assert state is not None
        return state

    async def state(self, import_id: uuid.UUID, *, for_update: bool = False) -> ImportState | None:
        statement = select(imports).where(imports.c.import_id == import_id)
        row = (await self.session.execute(statement.with_for_update() if for_update else statement)).first()
        if row is None:
            return None
        plan = None
        if row.academic_year is not None:
            plan = ImportPlan(tuple(row.programmes), row.academic_year, row.joined_on)
        return ImportState(row.team_ods, ImportStatus(row.status), row.result, plan, row.applied_through, row.joined)

    async def unfinished(self) -> list[tuple[uuid.UUID, str]]:
        """Imports whose commit started but did not finish (the service stopped or failed part-way)."""
        rows = await self.session.execute(
            select(imports.c.import_id, imports.c.team_ods).where(imports.c.status == ImportStatus.APPLYING)
        )
        return [(r.import_id, r.team_ods) for r in rows]

    async def chunk(self, import_id: uuid.UUID, sequence: int) -> tuple[int, list[RowError]] | None:
        """What a chunk staged before (accepted rows, errors), or None if it is new."""
        found = await self.session.execute(
            select(import_chunks.c.accepted).where(
                import_chunks.c.import_id == import_id, import_chunks.c.sequence == sequence
            )
        )
        accepted = found.scalar()
        if accepted is None:
            return None
        e = import_errors.c
        rows = await self.session.execute(
            select(e.row_number, e.column, e.message)
            .where(e.import_id == import_id, e.sequence == sequence)
            .order_by(e.row_number, e.column)
        )
        return accepted, [RowError(r.row_number, r.column, r.message) for r in rows]

    async def stage(
        self,
        import_id: uuid.UUID,
        team_ods: str,
        sequence: int,
        rows: Sequence[tuple[CohortRow, uuid.UUID]],
        errors: Sequence[RowError],
    ) -> None:
        """Stage valid rows, each with the id its child takes if the commit finds it new, and the errors."""
        await self.session.execute(
            insert(import_chunks).values(import_id=import_id, sequence=sequence, accepted=len(rows))
        )
        if rows:
            # COPY: a 2,000-row chunk costs a few milliseconds instead of a multi-row INSERT's hundred or more.
            connection = await (await self.session.connection()).get_raw_connection()
            driver: Any = connection.driver_connection
            await driver.copy_records_to_table(
                "import_rows",
                records=[_staged(import_id, team_ods, row, child_id) for row, child_id in rows],
                columns=_STAGED_COLUMNS,
            )
        if errors:
            found = [
                {
                    "import_id": import_id,
                    "sequence": sequence,
                    "row_number": e.row,
                    "column": e.column,
                    "message": e.message,
                }
                for e in errors
            ]
            await self.session.execute(insert(import_errors).on_conflict_do_nothing(), found)

    async def plan_for_growth(self) -> None:
        """Plan every statement afresh for the rest of this transaction.

        A commit grows children, memberships and activity by up to 100,000 rows faster than ANALYZE notices;
        a cached generic plan made while they were small (a sequential scan) would make each batch slower
        than the last.
        """
        await self.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))

    async def start_applying(self, import_id: uuid.UUID, plan: ImportPlan) -> None:
        await self.session.execute(
            update(imports)
            .where(imports.c.import_id == import_id)
            .values(
                status=ImportStatus.APPLYING,
                programmes=list(plan.programmes),
                academic_year=plan.academic_year,
                joined_on=plan.joined_on,
            )
        )

    async def next_batch(self, import_id: uuid.UUID, *, after: int, size: int) -> tuple[int, int] | None:
        """The next row-number range of at most `size` rows that changes a child or may join the clinic cohort."""
        row = (await self.session.execute(sql.NEXT_BATCH, {"id": import_id, "after": after, "size": size})).one()
        return (row.lo, row.hi) if row.lo is not None else None

    async def applied(self, import_id: uuid.UUID, *, through: int, joined: int) -> None:
        """Record a batch as applied, in the batch's own transaction, so a resumed commit skips it."""
        await self.session.execute(
            update(imports)
            .where(imports.c.import_id == import_id)
            .values(applied_through=through, joined=imports.c.joined + joined)
        )

    async def apply(self, import_id: uuid.UUID, team_ods: str, lo: int, hi: int) -> str | None:
        """Upsert the batch's created and changed children, with their parents.

        Returns them as a JSON array of ChildSnapshot, built by the database as it writes them, or None.
        """
        params = {"id": import_id, "team": team_ods, "lo": lo, "hi": hi}
        snapshots = (await self.session.execute(sql.UPSERT_CHILDREN, params)).scalars().all()
        return f"[{','.join(snapshots)}]" if snapshots else None

    async def join(
        self, import_id: uuid.UUID, *, team_ods: str, lo: int, hi: int, plan: ImportPlan, at: datetime
    ) -> ImportJoins:
        """Children of the batch whose school is a clinic URN join the clinic cohort (members are skipped)."""
        params = {
            "id": import_id,
            "team": team_ods,
            "lo": lo,
            "hi": hi,
            "year": plan.academic_year,
            "today": plan.joined_on,
            "at": at,
            **plan_params(plan),
        }
        row = (await self.session.execute(sql.JOIN, params)).one()
        return ImportJoins(row.joined, row.joins, row.invitations)

    async def outcomes(self, import_id: uuid.UUID) -> dict[str, int]:
        rows = await self.session.execute(
            text("SELECT outcome, count(*) AS n FROM import_rows WHERE import_id = :id GROUP BY outcome"),
            {"id": import_id},
        )
        return {r.outcome: r.n for r in rows}

    async def finish(self, import_id: uuid.UUID, result: dict[str, Any]) -> None:
        """Mark the import committed with its result; the staged rows are no longer needed (held rows wait
        in import_reviews)."""
        await self._close(import_id, ImportStatus.COMMITTED, result)

    async def reject(self, import_id: uuid.UUID, reply: dict[str, Any]) -> None:
        """Mark the import refused, keeping the refusal for a redelivered commit, and delete its staged rows:
        an import that imported nothing keeps no child's or parent's details."""
        await self._close(import_id, ImportStatus.REJECTED, reply)

    async def _close(self, import_id: uuid.UUID, status: ImportStatus, result: dict[str, Any]) -> None:
        await self.session.execute(
            update(imports)
            .where(imports.c.import_id == import_id)
            .values(status=status, result=result, committed_at=text("now()"))
        )
        await self.session.execute(text("DELETE FROM import_rows WHERE import_id = :id"), {"id": import_id})

    async def abandon_stale(self, *, started_before: datetime) -> int:
        """Imports still staging that began before `started_before` are abandoned and their rows deleted."""
        found = await self.session.execute(_ABANDON, {"before": started_before})
        return len(found.all())


_ABANDON = text(
    f"""
    WITH stale AS (
        UPDATE imports SET status = {literal(ImportStatus.ABANDONED)}, committed_at = now()
        WHERE status = {literal(ImportStatus.STAGING)} AND created_at < :before
        RETURNING import_id
    ), deleted AS (
        DELETE FROM import_rows r USING stale WHERE r.import_id = stale.import_id
    )
    SELECT import_id FROM stale
    """
)
