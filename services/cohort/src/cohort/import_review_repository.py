"""Import rows held for staff review: listing them beside their children, and what each decision writes."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from cohort.import_rules import COMPARED, HeldRow, ImportPlan, MatchedOn
from cohort.tables import children, import_reviews, imports

_PARENT_FIELDS = ("name", "relationship", "email", "phone")


def _details(row: Row[Any], prefix: str = "") -> dict[str, Any]:
    return {name: getattr(row, prefix + name) for name in COMPARED}


def _parents(parents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: p.get(k) for k in _PARENT_FIELDS} for p in parents]


def _held(row: Row[Any]) -> HeldRow:
    return HeldRow(
        import_id=row.import_id,
        row_number=row.row_number,
        team_ods=row.team_ods,
        child_id=row.child_id,
        matched_on=MatchedOn(row.matched_on),
        details=_details(row),
        parents=list(row.parents),
        new_child_id=row.new_child_id,
        plan=ImportPlan(tuple(row.programmes), row.academic_year, row.joined_on),
        decision=row.decision,
        decided_by=row.decided_by,
    )


_r, _c, _i = import_reviews.c, children.c, imports.c
_EXISTING = [getattr(_c, name).label(f"existing_{name}") for name in COMPARED]


class ImportReviewRepository:
    """Rows held for review, with the import's plan (fixed when its commit began)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, import_id: uuid.UUID, row_number: int, *, for_update: bool = False) -> HeldRow | None:
        statement = (
            select(import_reviews, _i.programmes, _i.academic_year, _i.joined_on)
            .join(imports, _i.import_id == _r.import_id)
            .where(_r.import_id == import_id, _r.row_number == row_number)
        )
        found = await self.session.execute(statement.with_for_update(of=import_reviews) if for_update else statement)
        row = found.first()
        return _held(row) if row is not None else None

    async def page(self, import_id: uuid.UUID, *, after_row: int, size: int) -> list[dict[str, Any]]:
        """Held rows after `after_row`, each as uploaded and as its child is now (for side-by-side reading)."""
        statement = (
            select(import_reviews, _c.parents.label("existing_parents"), *_EXISTING)
            .join(children, _c.id == _r.child_id)
            .where(_r.import_id == import_id, _r.row_number > after_row)
            .order_by(_r.row_number)
            .limit(size)
        )
        return [self._side_by_side(row) for row in await self.session.execute(statement)]

    @staticmethod
    def _side_by_side(row: Row[Any]) -> dict[str, Any]:
        return {
            "row_number": row.row_number,
            "matched_on": row.matched_on,
            "decision": row.decision,
            "decided_by": row.decided_by,
            "decided_at": row.decided_at,
            "uploaded": {**_details(row), "parents": _parents(row.parents)},
            "existing": {
                "child_id": row.child_id,
                **_details(row, "existing_"),
                "parents": _parents(row.existing_parents),
            },
        }

    async def counts(self, import_id: uuid.UUID) -> tuple[int, int]:
        """How many rows the import holds, and how many of them are still undecided."""
        found = await self.session.execute(
            select(func.count(), func.count().filter(_r.decision.is_(None))).where(_r.import_id == import_id)
        )
        total, undecided = found.one()
        return int(total), int(undecided)

    async def decided(self, held: HeldRow, *, decision: str, decided_by: str, at: datetime) -> None:
        await self.session.execute(
            update(import_reviews)
            .where(_r.import_id == held.import_id, _r.row_number == held.row_number)
            .values(decision=decision, decided_by=decided_by, decided_at=at)
        )

    async def use_upload(self, held: HeldRow) -> None:
        """The matched child takes the uploaded details and parents (an NHS number only where it brings one)."""
        await self.session.execute(_USE_UPLOAD, {**self._params(held, held.parents), "id": held.child_id})

    async def add_child(self, held: HeldRow, parents: list[dict[str, Any]]) -> None:
        """The upload as a new child of the team, beside the one it matched."""
        await self.session.execute(
            _ADD_CHILD, {**self._params(held, parents), "id": held.new_child_id, "team": held.team_ods}
        )

    @staticmethod
    def _params(held: HeldRow, parents: list[dict[str, Any]]) -> dict[str, Any]:
        return {**held.details, "parents": json.dumps(parents)}


_USE_UPLOAD = text(
    """
    UPDATE children SET nhs_number = coalesce(:nhs_number, nhs_number), first_name = :first_name,
        last_name = :last_name, date_of_birth = :date_of_birth, postcode = :postcode, school_urn = :school_urn,
        year_group = :year_group, parents = CAST(:parents AS jsonb), updated_at = now()
    WHERE id = :id
    """
)
_ADD_CHILD = text(
    """
    INSERT INTO children (id, team_ods, nhs_number, first_name, last_name, date_of_birth, postcode, school_urn,
                          year_group, parents)
    VALUES (:id, :team, :nhs_number, :first_name, :last_name, :date_of_birth, :postcode, :school_urn, :year_group,
            CAST(:parents AS jsonb))
    ON CONFLICT (id) DO NOTHING
    """
)
