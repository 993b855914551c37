"""Read side: the clinic children list, finding children, and a child's activity log."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from cohort import not_invited, paging
from cohort import queries_sql as sql
from cohort.activity import shown
from cohort.domain import HIDDEN, ChildFlags, Parent
from cohort.tables import activity_log, children


def _child(row: Row[Any]) -> dict[str, Any]:
    return {
        "child_id": str(row.id),
        "nhs_number": row.nhs_number,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "date_of_birth": row.date_of_birth.isoformat(),
        "school_urn": row.school_urn,
        "do_not_contact": ChildFlags(row.deceased, row.restricted, row.invalidated, row.archived).do_not_contact,
    }


def _parents(row: Row[Any]) -> list[dict[str, Any]]:
    """A child's parents as their record shows them: the id `consent record --parent` takes, contact details
    (hidden for a restricted child) and the channels an invitation can reach them by (a text only to a mobile)."""
    shown = []
    for p in row.parents:
        parent = Parent(uuid.UUID(p["parent_id"]), p.get("name"), p.get("relationship"), p.get("email"), p.get("phone"))
        contact = (
            {"email": HIDDEN, "phone": HIDDEN} if row.restricted else {"email": parent.email, "phone": parent.phone}
        )
        channels = [c.value for c in parent.channels]
        shown.append(
            {"parent_id": str(parent.parent_id), "name": parent.name, "relationship": parent.relationship, **contact,
             "contactable_by": channels}
        )  # fmt: skip
    return shown


def _listed(row: Row[Any], why: dict[uuid.UUID, str]) -> dict[str, Any]:
    return {
        **_child(row),
        "joined_on": row.joined_on.isoformat(),
        "reason": row.reason,
        "invited": row.invited,
        # Why a parent was not sent an invitation yet (None once one was).
        "not_invited_because": why.get(row.id),
        "consent_status": row.consent_status,
        "vaccinated": row.vaccinated,
    }


class CohortQueries:
    """Answers staff questions in one or two statements each."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def clinic_children(
        self,
        *,
        team_ods: str,
        programme: str,
        academic_year: int,
        filter_: str,
        page: int,
        page_size: int,
        after: paging.Position | None = None,
    ) -> tuple[int, list[dict[str, Any]], paging.Position | None]:
        """The total, one page, and the position to continue after (None on the last page).

        A page after a cursor reads on from it in the list's index; a numbered page reads from the start.
        """
        where = f"{sql.LISTED} AND {sql.FILTERS[filter_]}"
        params: dict[str, Any] = {"team": team_ods, "programme": programme, "year": academic_year}
        total = int((await self.session.execute(text(sql.count(where)), params)).scalar_one())
        if after is not None:
            where += f" AND {sql.AFTER}"
            params |= {"after_last": after.last_name, "after_first": after.first_name, "after_id": after.child_id}
        # One row more than the page says whether another page follows.
        paging_ = {"limit": page_size + 1, "offset": 0 if after else (page - 1) * page_size}
        rows = (await self.session.execute(text(sql.page(where)), {**params, **paging_})).all()
        more, rows = len(rows) > page_size, rows[:page_size]
        # The cursor holds the sort key as the index has it (the membership's copy of the names).
        last = paging.Position(rows[-1].sort_last, rows[-1].sort_first, rows[-1].id) if more else None
        why = await not_invited.reasons(
            self.session, [r for r in rows if not r.invited], programme=programme, academic_year=academic_year
        )
        return total, [_listed(r, why) for r in rows], last

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
        return [{**_child(r), "parents": _parents(r)} for r in rows]

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
