"""Read side: the clinic children list, finding children, and a child's activity log."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from cohort.activity import shown
from cohort.copies import VACCINATED_SQL
from cohort.tables import activity_log, children

_INVITED = """(
    EXISTS (SELECT 1 FROM invitations i WHERE i.child_id = m.child_id
            AND ((i.academic_year = :year AND :programme = ANY(i.programmes)) OR (i.sent AND i.programmes IS NULL))))"""
_CONSENT = """coalesce((SELECT k.status FROM consents k WHERE k.child_id = m.child_id AND k.programme = :programme
                        AND k.academic_year = :year), 'no_response')"""
_VACCINATED = VACCINATED_SQL.format(child="m.child_id", programme=":programme", year=":year")
_MEMBERS = f"""
    WITH members AS (
        SELECT m.child_id, m.joined_on, m.reason, {_INVITED} AS invited, {_CONSENT} AS consent_status,
               {_VACCINATED} AS vaccinated
        FROM clinic_memberships m
        WHERE m.team_ods = :team AND m.academic_year = :year AND m.programme = :programme)
"""
FILTERS = {
    "all": "true",
    "invited": "s.invited",
    "not_invited": "NOT s.invited",
    "needs_consent": "s.consent_status = 'no_response' AND NOT s.vaccinated",
    "consent_given": "s.consent_status = 'given'",
    "consent_refused": "s.consent_status = 'refused'",
    "vaccinated": "s.vaccinated",
}


def _child(row: Row[Any]) -> dict[str, Any]:
    return {
        "child_id": str(row.id),
        "nhs_number": row.nhs_number,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "date_of_birth": row.date_of_birth.isoformat(),
        "school_urn": row.school_urn,
        "do_not_contact": bool(row.deceased or row.restricted or row.invalidated or row.archived),
    }


class CohortQueries:
    """Answers staff questions in one or two statements each."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def clinic_children(
        self, *, team_ods: str, programme: str, academic_year: int, filter_: str, page: int, page_size: int
    ) -> tuple[int, list[dict[str, Any]]]:
        where = FILTERS[filter_]
        params = {"team": team_ods, "programme": programme, "year": academic_year}
        total_sql = f"{_MEMBERS} SELECT count(*) FROM members s WHERE {where}"
        total = int((await self.session.execute(text(total_sql), params)).scalar_one())
        page_sql = f"""{_MEMBERS}
            SELECT c.*, s.joined_on, s.reason, s.invited, s.consent_status, s.vaccinated
            FROM members s JOIN children c ON c.id = s.child_id WHERE {where}
            ORDER BY c.last_name, c.first_name, c.id LIMIT :limit OFFSET :offset"""
        paging = {"limit": page_size, "offset": (page - 1) * page_size}
        rows = (await self.session.execute(text(page_sql), {**params, **paging})).all()
        items = [
            {
                **_child(r),
                "joined_on": r.joined_on.isoformat(),
                "reason": r.reason,
                "invited": r.invited,
                "consent_status": r.consent_status,
                "vaccinated": r.vaccinated,
            }
            for r in rows
        ]
        return total, items

    async def find_children(
        self, *, team_ods: str, nhs_number: str | None, last_name: str | None
    ) -> list[dict[str, Any]]:
        c = children.c
        statement = select(children).where(c.team_ods == team_ods)
        if nhs_number:
            statement = statement.where(c.nhs_number == nhs_number)
        if last_name:
            statement = statement.where(func.lower(c.last_name) == last_name.strip().lower())
        rows = (await self.session.execute(statement.order_by(c.last_name, c.first_name, c.id).limit(100))).all()
        return [_child(r) for r in rows]

    async def activity_log(self, child_id: uuid.UUID) -> list[dict[str, Any]] | None:
        """Entries in time order (arrival order breaks ties), or None for an unknown child."""
        found = await self.session.execute(select(children.c.restricted).where(children.c.id == child_id))
        restricted = found.scalar()
        if restricted is None:
            return None
        a = activity_log.c
        rows = await self.session.execute(
            select(a.occurred_at, a.kind, a.details).where(a.child_id == child_id).order_by(a.occurred_at, a.id)
        )
        entries = []
        for r in rows:
            text_, details = shown(r.kind, dict(r.details), restricted=restricted)
            entries.append(
                {"occurred_at": r.occurred_at.isoformat(), "kind": r.kind, "text": text_, "details": details}
            )
        return entries
