"""Local copies of other services' data (teams, clinic dates, children, leavers, outcomes), kept from events."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.bulk import ChildSnapshotRow
from contracts.phone import is_mobile
from contracts.sessions import ClinicDatesChanged, TeamSettings
from notify.domain.eligibility import Outcomes
from notify.domain.recipients import Child, Parent, Team
from notify.domain.timing import ClinicSession, SendingWindow
from notify.persistence import copies_sql
from notify.persistence.sql import any_id
from notify.persistence.tables import children, clinic_sessions, cohort_leavers, programme_outcomes, teams


def _newer(table: Any, column: str = "updated_at") -> Any:
    # Events may arrive out of order; an older snapshot never overwrites a newer one.
    return table.c[column] <= insert(table).excluded[column]


def _parents_json(child: ChildSnapshotRow) -> str:
    return json.dumps(
        [
            {"parent_id": str(p["parent_id"]), "email": p.get("email"), "phone": p.get("phone")}
            for p in child.get("parents", ())
        ],
        separators=(",", ":"),
    )


class CopiesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save_team(self, team: TeamSettings, at: datetime) -> None:
        values = {
            "ods_code": team.ods_code,
            "name": team.name,
            "email": str(team.email),
            "phone": team.phone,
            "booking_url": str(team.booking_url) if team.booking_url else None,
            "reply_to_id": team.reply_to_id,
            "days_before_invitations": team.days_before_invitations,
            "send_window_start": team.send_window_start,
            "send_window_end": team.send_window_end,
            "updated_at": at,
        }
        statement = insert(teams).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[teams.c.ods_code], set_={k: statement.excluded[k] for k in values}, where=_newer(teams)
        )
        await self.session.execute(statement)

    async def save_clinic_dates(self, event: ClinicDatesChanged) -> None:
        values = {
            "session_id": event.session_id,
            "team_ods": event.team_ods,
            "academic_year": event.academic_year,
            "programmes": [str(p) for p in event.programmes],
            "dates": sorted({d.on for d in event.dates}),
            "updated_at": event.occurred_at,
        }
        statement = insert(clinic_sessions).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[clinic_sessions.c.session_id],
            set_={k: statement.excluded[k] for k in values},
            where=_newer(clinic_sessions),
        )
        await self.session.execute(statement)

    async def save_children(self, snapshots: Sequence[ChildSnapshotRow], at: datetime) -> None:
        latest = {c["child_id"]: c for c in snapshots}  # one row per child per statement
        rows = list(latest.values())
        await self.session.execute(
            copies_sql.UPSERT_CHILDREN,
            {
                "at": at,
                "ids": [str(c["child_id"]) for c in rows],
                "teams": [c["team_ods"] for c in rows],
                "first": [c["first_name"] for c in rows],
                "last": [c["last_name"] for c in rows],
                "deceased": [c.get("deceased", False) for c in rows],
                "restricted": [c.get("restricted", False) for c in rows],
                "invalidated": [c.get("invalidated", False) for c in rows],
                "archived": [c.get("archived", False) for c in rows],
                "parents": [_parents_json(c) for c in rows],
            },
        )

    async def save_leaver(self, *, child_id: uuid.UUID, team_ods: str, year: int, reason: str, at: datetime) -> None:
        values = {"child_id": child_id, "team_ods": team_ods, "academic_year": year, "reason": reason, "removed_at": at}
        statement = insert(cohort_leavers).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[cohort_leavers.c.child_id, cohort_leavers.c.team_ods, cohort_leavers.c.academic_year],
            set_={"reason": statement.excluded.reason, "removed_at": statement.excluded.removed_at},
            where=_newer(cohort_leavers, "removed_at"),
        )
        await self.session.execute(statement)

    async def forget_leavers(self, keys: Sequence[tuple[str, str, int]], before: datetime) -> None:
        """A newer invitation request means the child is back in the cohort."""
        if keys:
            children, teams, years = (list(c) for c in zip(*keys, strict=True))
            params = {"children": children, "teams": teams, "years": years, "before": before}
            await self.session.execute(copies_sql.FORGET_LEAVERS, params)

    async def save_vaccinated(self, *, child_id: uuid.UUID, programme: str, year: int) -> None:
        statement = insert(programme_outcomes).values(
            child_id=child_id, programme=programme, academic_year=year, vaccinated=True
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[
                    programme_outcomes.c.child_id,
                    programme_outcomes.c.programme,
                    programme_outcomes.c.academic_year,
                ],
                set_={"vaccinated": True},
            )
        )

    async def save_consent(self, *, child_id: uuid.UUID, programme: str, year: int, status: str, at: datetime) -> None:
        statement = insert(programme_outcomes).values(
            child_id=child_id, programme=programme, academic_year=year, consent_status=status, consent_at=at
        )
        excluded = statement.excluded
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[
                    programme_outcomes.c.child_id,
                    programme_outcomes.c.programme,
                    programme_outcomes.c.academic_year,
                ],
                set_={"consent_status": excluded.consent_status, "consent_at": excluded.consent_at},
                where=(programme_outcomes.c.consent_at.is_(None)) | (programme_outcomes.c.consent_at <= at),
            )
        )

    # --- reads -------------------------------------------------------------------------------

    async def children(self, ids: Iterable[uuid.UUID | str]) -> dict[str, Child]:
        rows = (await self.session.execute(select(children).where(children.c.child_id == any_id(ids)))).all()
        return {str(r.child_id): _child(r) for r in rows}

    async def teams(self, ods_codes: Iterable[str]) -> dict[str, Team]:
        codes = sorted(set(ods_codes))
        rows = (await self.session.execute(select(teams).where(teams.c.ods_code.in_(codes)))).all()
        return {r.ods_code: _team(r) for r in rows}

    async def clinic_sessions(self, team_ods: Iterable[str]) -> dict[tuple[str, int], list[ClinicSession]]:
        """Every clinic session of these teams, by (team, academic year)."""
        codes = sorted(set(team_ods))
        rows = (await self.session.execute(select(clinic_sessions).where(clinic_sessions.c.team_ods.in_(codes)))).all()
        found: dict[tuple[str, int], list[ClinicSession]] = {}
        for r in rows:
            session = ClinicSession(programmes=frozenset(r.programmes), dates=tuple(r.dates))
            found.setdefault((r.team_ods, r.academic_year), []).append(session)
        return found

    async def leavers(self, child_ids: Iterable[uuid.UUID | str]) -> set[tuple[str, str, int]]:
        statement = select(cohort_leavers.c.child_id, cohort_leavers.c.team_ods, cohort_leavers.c.academic_year)
        rows = (await self.session.execute(statement.where(cohort_leavers.c.child_id == any_id(child_ids)))).all()
        return {(str(r.child_id), r.team_ods, r.academic_year) for r in rows}

    async def outcomes(self, child_ids: Iterable[uuid.UUID | str]) -> dict[str, Outcomes]:
        statement = select(programme_outcomes).where(programme_outcomes.c.child_id == any_id(child_ids))
        vaccinated: dict[str, set[tuple[str, int]]] = {}
        refused: dict[str, set[tuple[str, int]]] = {}
        consent: dict[str, dict[tuple[str, int], str]] = {}
        for r in (await self.session.execute(statement)).all():
            key, child = (r.programme, r.academic_year), str(r.child_id)
            if r.vaccinated:
                vaccinated.setdefault(child, set()).add(key)
            if r.consent_status == "refused":
                refused.setdefault(child, set()).add(key)
            if r.consent_status is not None:
                consent.setdefault(child, {})[key] = r.consent_status
        return {
            child: Outcomes(
                vaccinated=frozenset(vaccinated.get(child, ())),
                refused=frozenset(refused.get(child, ())),
                consent=consent.get(child, {}),
            )
            for child in vaccinated.keys() | consent.keys()
        }


def _parent(p: dict[str, Any]) -> Parent:
    # A text reaches mobiles only: a landline stays in the copy but is no way for notify to reach a parent.
    phone = p.get("phone")
    return Parent(parent_id=p["parent_id"], email=p.get("email"), phone=phone if is_mobile(phone) else None)


def _child(r: Any) -> Child:
    parents = tuple(_parent(p) for p in r.parents)
    return Child(
        child_id=str(r.child_id),
        team_ods=r.team_ods,
        first_name=r.first_name,
        last_name=r.last_name,
        deceased=r.deceased,
        restricted=r.restricted,
        invalidated=r.invalidated,
        archived=r.archived,
        parents=parents,
    )


def _team(r: Any) -> Team:
    return Team(
        ods_code=r.ods_code,
        name=r.name,
        email=r.email,
        phone=r.phone,
        booking_url=r.booking_url,
        reply_to_id=r.reply_to_id,
        days_before_invitations=r.days_before_invitations,
        window=SendingWindow(r.send_window_start, r.send_window_end),
    )
