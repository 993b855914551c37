"""Rows <-> domain objects for the consent service, with bulk upserts for the local copies."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consent import bulk
from consent.domain import (
    Child,
    ClinicWindow,
    ConsentResponse,
    Membership,
    Parent,
    Response,
    Route,
    merge_memberships,
)
from consent.tables import (
    children,
    clinic_memberships,
    clinic_sessions,
    consent_requests,
    consent_responses,
    parents,
    teams,
)


@dataclass(frozen=True, slots=True)
class ClinicSession:
    session_id: uuid.UUID
    team_ods: str
    academic_year: int
    programmes: tuple[str, ...]
    last_date: date | None
    closes_on: date | None


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    request_id: uuid.UUID
    child_id: uuid.UUID
    team_ods: str
    programmes: tuple[str, ...]
    academic_year: int
    requested_by: str
    requested_at: datetime


def _response_to_domain(row: Row[Any]) -> ConsentResponse:
    return ConsentResponse(
        consent_id=row.consent_id,
        child_id=row.child_id,
        team_ods=row.team_ods,
        programme=row.programme,
        academic_year=row.academic_year,
        response=Response(row.response),
        route=Route(row.route),
        parent_id=row.parent_id,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
        vaccine_methods=tuple(row.vaccine_methods or ()),
        follow_up_requested=row.follow_up_requested,
        respondent=row.respondent,
        form_response_id=row.form_response_id,
    )


def _response_to_row(r: ConsentResponse) -> dict[str, Any]:
    return {
        "consent_id": r.consent_id,
        "child_id": r.child_id,
        "team_ods": r.team_ods,
        "programme": r.programme,
        "academic_year": r.academic_year,
        "response": r.response.value,
        "route": r.route.value,
        "parent_id": r.parent_id,
        "recorded_by": r.recorded_by,
        "recorded_at": r.recorded_at,
        "vaccine_methods": list(r.vaccine_methods),
        "follow_up_requested": r.follow_up_requested,
        "respondent": r.respondent,
        "form_response_id": r.form_response_id,
    }


class ConsentRepository:
    """Everything the use cases read and write, on the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- local copies ------------------------------------------------------------------------

    async def upsert_team(
        self, ods_code: str, name: str, source_at: datetime, *, email: str | None = None, phone: str | None = None
    ) -> None:
        stmt = insert(teams).values(ods_code=ods_code, name=name, source_at=source_at, email=email, phone=phone)
        stmt = stmt.on_conflict_do_update(
            index_elements=[teams.c.ods_code],
            set_={k: stmt.excluded[k] for k in ("name", "source_at", "email", "phone")},
            where=teams.c.source_at <= stmt.excluded.source_at,
        )
        await self.session.execute(stmt)

    async def upsert_children(self, batch: Sequence[Child], source_at: datetime) -> set[uuid.UUID]:
        """Replace children and their parents, unless a newer copy is already held; returns those changed."""
        return await bulk.upsert_children(self.session, batch, source_at)

    async def get_team(self, ods_code: str) -> Row[Any] | None:
        return (await self.session.execute(select(teams).where(teams.c.ods_code == ods_code))).first()

    async def team_programmes(self, team_ods: str, academic_year: int) -> list[str]:
        """The programmes the team's clinics offer in the year (what its generic link asks about)."""
        windows = await self.clinic_windows(team_ods, academic_year)
        return sorted({p for w in windows for p in w.programmes})

    async def add_memberships(self, joins: Sequence[Membership]) -> None:
        # One row per key: ON CONFLICT may touch a row only once.
        await bulk.upsert_memberships(self.session, merge_memberships(joins))

    async def memberships_of(self, child_id: uuid.UUID) -> list[Membership]:
        rows = await self.session.execute(select(clinic_memberships).where(clinic_memberships.c.child_id == child_id))
        return [Membership(r.child_id, r.team_ods, r.academic_year, tuple(r.programmes), r.joined_on) for r in rows]

    async def upsert_clinic_session(self, s: ClinicSession, source_at: datetime) -> None:
        stmt = insert(clinic_sessions).values(
            session_id=s.session_id,
            team_ods=s.team_ods,
            academic_year=s.academic_year,
            programmes=list(s.programmes),
            last_date=s.last_date,
            consent_window_closes_on=s.closes_on,
            source_at=source_at,
        )
        changed = ("team_ods", "academic_year", "programmes", "last_date", "consent_window_closes_on", "source_at")
        stmt = stmt.on_conflict_do_update(
            index_elements=[clinic_sessions.c.session_id],
            set_={col: stmt.excluded[col] for col in changed},
            where=clinic_sessions.c.source_at <= stmt.excluded.source_at,
        )
        await self.session.execute(stmt)

    async def clinic_windows(self, team_ods: str, academic_year: int) -> list[ClinicWindow]:
        rows = await self.session.execute(
            select(clinic_sessions.c.programmes, clinic_sessions.c.consent_window_closes_on).where(
                clinic_sessions.c.team_ods == team_ods, clinic_sessions.c.academic_year == academic_year
            )
        )
        return [ClinicWindow(frozenset(r.programmes), r.consent_window_closes_on) for r in rows]

    async def get_child(self, child_id: uuid.UUID) -> Child | None:
        row = (await self.session.execute(select(children).where(children.c.child_id == child_id))).first()
        if row is None:
            return None
        parent_rows = await self.session.execute(
            select(parents).where(parents.c.child_id == child_id).order_by(parents.c.parent_id)
        )
        found = tuple(
            Parent(p.parent_id, p.has_email, p.has_phone, p.receive_updates, p.email_key, p.phone_key)
            for p in parent_rows
        )
        flags = (row.deceased, row.restricted, row.invalidated, row.archived)
        return Child(
            row.child_id,
            row.team_ods,
            *flags,
            found,
            match_key=row.match_key,
            first_name=row.first_name,
            last_name=row.last_name,
        )

    # --- consent -----------------------------------------------------------------------------

    async def lock_child(self, child_id: uuid.UUID) -> None:
        """Serialise consent changes for one child (across replicas) so each status published is current."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"consent:{child_id}"}
        )

    async def add_response(self, response: ConsentResponse) -> bool:
        """Store a response; False if one with that consent_id already exists."""
        stmt = (
            insert(consent_responses)
            .values(_response_to_row(response))
            .on_conflict_do_nothing(index_elements=[consent_responses.c.consent_id])
            .returning(consent_responses.c.consent_id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def get_response(self, consent_id: uuid.UUID) -> ConsentResponse | None:
        query = select(consent_responses).where(consent_responses.c.consent_id == consent_id)
        row = (await self.session.execute(query)).first()
        return None if row is None else _response_to_domain(row)

    async def responses_for(self, child_id: uuid.UUID, academic_year: int | None = None) -> list[ConsentResponse]:
        """A child's responses in the order they were stored (all years unless one is given)."""
        query = select(consent_responses).where(consent_responses.c.child_id == child_id)
        if academic_year is not None:
            query = query.where(consent_responses.c.academic_year == academic_year)
        rows = await self.session.execute(query.order_by(consent_responses.c.seq))
        return [_response_to_domain(r) for r in rows]

    async def add_request(self, request: ConsentRequest) -> None:
        await self.session.execute(
            insert(consent_requests).values(
                request_id=request.request_id,
                child_id=request.child_id,
                team_ods=request.team_ods,
                programmes=list(request.programmes),
                academic_year=request.academic_year,
                requested_by=request.requested_by,
                requested_at=request.requested_at,
            )
        )

    async def get_request(self, request_id: uuid.UUID) -> ConsentRequest | None:
        query = select(consent_requests).where(consent_requests.c.request_id == request_id)
        r = (await self.session.execute(query)).first()
        if r is None:
            return None
        return ConsentRequest(
            r.request_id, r.child_id, r.team_ods, tuple(r.programmes), r.academic_year, r.requested_by, r.requested_at
        )
