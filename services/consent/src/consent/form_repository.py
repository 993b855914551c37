"""Online consent forms as stored: one row per response, and the lookups matching them needs."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consent.tables import children, consent_forms
from contracts.consent import ConsentFormAnswers


class FormState(StrEnum):
    UNMATCHED = "unmatched"
    CREATING = "creating"  # staff asked cohort to add the child; matched when the child arrives
    MATCHED = "matched"
    ARCHIVED = "archived"


@dataclass(frozen=True, slots=True)
class FormRecord:
    response_id: uuid.UUID
    team_ods: str
    academic_year: int
    link_kind: str
    request_id: uuid.UUID | None
    programmes: tuple[str, ...]
    answers: ConsentFormAnswers
    needs_triage: bool
    match_key: str | None
    submitted_at: datetime
    state: FormState = FormState.UNMATCHED
    child_id: uuid.UUID | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    notes: str | None = None


def _record(row: Row[Any]) -> FormRecord:
    return FormRecord(
        response_id=row.response_id,
        team_ods=row.team_ods,
        academic_year=row.academic_year,
        link_kind=row.link_kind,
        request_id=row.request_id,
        programmes=tuple(row.programmes),
        answers=ConsentFormAnswers.model_validate(row.answers),
        needs_triage=row.needs_triage,
        match_key=row.match_key,
        submitted_at=row.submitted_at,
        state=FormState(row.state),
        child_id=row.child_id,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        notes=row.notes,
    )


class FormRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, response_id: uuid.UUID) -> None:
        """Serialise work on one response (a double submit, staff acting twice) across replicas."""
        await self.session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(f"consent-form:{response_id}", 0)))
        )

    async def get(self, response_id: uuid.UUID) -> FormRecord | None:
        row = (
            await self.session.execute(select(consent_forms).where(consent_forms.c.response_id == response_id))
        ).first()
        return None if row is None else _record(row)

    async def add(self, r: FormRecord) -> None:
        values = {
            "response_id": r.response_id,
            "team_ods": r.team_ods,
            "academic_year": r.academic_year,
            "link_kind": r.link_kind,
            "request_id": r.request_id,
            "programmes": list(r.programmes),
            "answers": r.answers.model_dump(mode="json"),
            "needs_triage": r.needs_triage,
            "match_key": r.match_key,
            "submitted_at": r.submitted_at,
            "state": r.state.value,
            "child_id": r.child_id,
        }
        await self.session.execute(insert(consent_forms).values(values))

    async def decide(
        self,
        response_id: uuid.UUID,
        state: FormState,
        *,
        child_id: uuid.UUID | None,
        by: str | None,
        at: datetime,
        notes: str | None = None,
    ) -> None:
        await self.session.execute(
            update(consent_forms)
            .where(consent_forms.c.response_id == response_id)
            .values(state=state.value, child_id=child_id, decided_by=by, decided_at=at, notes=notes)
        )

    async def page(self, team_ods: str, *, unmatched_only: bool, page: int, size: int) -> tuple[list[FormRecord], int]:
        """A team's responses oldest first: all of them, or those waiting for staff (unmatched)."""
        where = [consent_forms.c.team_ods == team_ods]
        if unmatched_only:
            where.append(consent_forms.c.state == FormState.UNMATCHED.value)
        total = (await self.session.execute(select(func.count()).select_from(consent_forms).where(*where))).scalar_one()
        query = select(consent_forms).where(*where).order_by(consent_forms.c.seq).offset((page - 1) * size).limit(size)
        return [_record(r) for r in await self.session.execute(query)], total

    async def children_matching(self, team_ods: str, match_key: str) -> list[uuid.UUID]:
        """The team's children with this key who may be matched (at most two: one is a match, two are not)."""
        query = (
            select(children.c.child_id)
            .where(children.c.team_ods == team_ods, children.c.match_key == match_key)
            .where(~children.c.invalidated, ~children.c.deceased)
            .limit(2)
        )
        return list((await self.session.execute(query)).scalars())

    async def waiting_for(self, child_ids: Collection[uuid.UUID]) -> list[FormRecord]:
        """Responses these (new or changed) children may settle: unmatched ones with their key, or being created."""
        keyed = select(children.c.team_ods, children.c.match_key).where(
            children.c.child_id.in_(child_ids), children.c.match_key.is_not(None)
        )
        pairs = {(r.team_ods, r.match_key) for r in await self.session.execute(keyed)}
        conditions = [(consent_forms.c.state == FormState.CREATING.value) & consent_forms.c.child_id.in_(child_ids)]
        if pairs:
            keys = {k for _, k in pairs}
            conditions.append(
                (consent_forms.c.state == FormState.UNMATCHED.value) & consent_forms.c.match_key.in_(keys)
            )
        query = select(consent_forms).where(conditions[0] if len(conditions) == 1 else conditions[0] | conditions[1])
        found = [_record(r) for r in await self.session.execute(query.order_by(consent_forms.c.seq))]
        return [f for f in found if f.state is FormState.CREATING or (f.team_ods, f.match_key) in pairs]

    async def needing_triage(self, response_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these online responses answered a health question yes."""
        if not response_ids:
            return set()
        query = select(consent_forms.c.response_id).where(
            consent_forms.c.response_id.in_(response_ids), consent_forms.c.needs_triage
        )
        return set((await self.session.execute(query)).scalars())
