"""Repositories: teams and locations, sessions and their dates, vaccination records <-> rows."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from sessions.domain import Outcome, Session, SessionDate, SessionKind, Vaccination, programme_set
from sessions.tables import CLINIC_ONLY, LocationRow, SessionDateRow, SessionRow, TeamRow, VaccinationRow
from sessions.teams import Location, LocationKind, Team


class TeamRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def get(self, ods_code: str) -> Team | None:
        row = await self._db.get(TeamRow, ods_code)
        return _team(row) if row else None

    async def save(self, team: Team) -> None:
        values = {
            "ods_code": team.ods_code,
            "name": team.name,
            "email": team.email,
            "phone": team.phone,
            "booking_url": team.booking_url,
            "days_before_invitations": team.days_before_invitations,
            "send_window_start": team.send_window_start,
            "send_window_end": team.send_window_end,
            "reply_to_id": team.reply_to_id,
            "programmes": list(team.programmes),
        }
        statement = insert(TeamRow).values(values)
        changes = {k: statement.excluded[k] for k in values if k != "ods_code"}
        await self._db.execute(
            statement.on_conflict_do_update(index_elements=["ods_code"], set_={**changes, "updated_at": func.now()})
        )
        self._db.expire_all()

    async def add_location(self, location: Location) -> None:
        statement = insert(LocationRow).values(
            team_ods=location.team_ods, kind=location.kind.value, location_id=location.location_id, name=location.name
        )
        await self._db.execute(
            statement.on_conflict_do_update(
                index_elements=["team_ods", "kind", "location_id"], set_={"name": statement.excluded.name}
            )
        )

    async def has_location(self, team_ods: str, kind: LocationKind, location_id: str) -> bool:
        return await self._db.get(LocationRow, (team_ods, kind.value, location_id)) is not None

    async def school_name(self, team_ods: str, school_urn: str | None) -> str | None:
        if school_urn is None:
            return None
        row = await self._db.get(LocationRow, (team_ods, LocationKind.SCHOOL.value, school_urn))
        return row.name if row else None

    async def schools(self, team_ods: str) -> list[tuple[str, str]]:
        """The team's schools (URN, name) by name, for a parent choosing their child's school."""
        rows = await self._db.execute(
            select(LocationRow.location_id, LocationRow.name)
            .where(LocationRow.team_ods == team_ods, LocationRow.kind == LocationKind.SCHOOL.value)
            .order_by(LocationRow.name, LocationRow.location_id)
        )
        return [(r.location_id, r.name) for r in rows]

    async def clinic_venues(self, team_ods: str) -> frozenset[str]:
        rows = await self._db.scalars(
            select(LocationRow.location_id).where(
                LocationRow.team_ods == team_ods, LocationRow.kind == LocationKind.COMMUNITY_CLINIC.value
            )
        )
        return frozenset(rows)


class SessionRepository:
    """Sessions in the vaccination sense (school sessions and community clinics), with their dates."""

    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def get(self, session_id: uuid.UUID, *, lock: bool = False) -> Session | None:
        statement = select(SessionRow).where(SessionRow.session_id == session_id)
        row = (await self._db.scalars(statement.with_for_update() if lock else statement)).first()
        return await self._to_domain(row) if row else None

    async def get_clinic(
        self, team_ods: str, academic_year: int, programmes: tuple[str, ...], *, lock: bool = False
    ) -> Session | None:
        statement = select(SessionRow).where(
            SessionRow.kind == SessionKind.CLINIC.value,
            SessionRow.team_ods == team_ods,
            SessionRow.academic_year == academic_year,
            SessionRow.programmes == list(programme_set(programmes)),
        )
        row = (await self._db.scalars(statement.with_for_update() if lock else statement)).first()
        return await self._to_domain(row) if row else None

    async def add_clinic_if_missing(self, clinic: Session) -> bool:
        """Insert the team's clinic session unless one exists for its year and programmes (races included)."""
        statement = (
            insert(SessionRow)
            .values(_session_values(clinic))
            .on_conflict_do_nothing(
                index_elements=["team_ods", "academic_year", "programmes"],
                # A literal, not a bound parameter: once asyncpg's prepared statement turns generic,
                # PostgreSQL cannot match a parameter against the partial index's predicate.
                index_where=text(CLINIC_ONLY),
            )
            .returning(SessionRow.session_id)
        )
        return (await self._db.execute(statement)).first() is not None

    async def add(self, session: Session) -> None:
        await self._db.execute(insert(SessionRow).values(_session_values(session)))
        await self._replace_dates(session)

    async def save(self, session: Session) -> None:
        values = _session_values(session)
        del values["session_id"]
        await self._db.execute(update(SessionRow).where(SessionRow.session_id == session.session_id).values(values))
        await self._replace_dates(session)

    async def recorded_dates(self, session_id: uuid.UUID) -> frozenset[date]:
        rows = await self._db.scalars(
            select(VaccinationRow.session_date).where(VaccinationRow.session_id == session_id).distinct()
        )
        return frozenset(rows)

    async def _replace_dates(self, session: Session) -> None:
        await self._db.execute(delete(SessionDateRow).where(SessionDateRow.session_id == session.session_id))
        if session.dates:
            rows = [{"session_id": session.session_id, "day": d.on, "venue_id": d.venue_id} for d in session.dates]
            await self._db.execute(insert(SessionDateRow), rows)

    async def _to_domain(self, row: SessionRow) -> Session:
        dates = await self._db.execute(
            select(SessionDateRow.day, SessionDateRow.venue_id)
            .where(SessionDateRow.session_id == row.session_id)
            .order_by(SessionDateRow.day)
        )
        return Session(
            session_id=row.session_id,
            team_ods=row.team_ods,
            kind=SessionKind(row.kind),
            academic_year=row.academic_year,
            programmes=tuple(row.programmes),
            dates=tuple(SessionDate(on=day, venue_id=venue) for day, venue in dates),
            school_urn=row.school_urn,
            closed_at=row.closed_at,
            closed_by=row.closed_by,
            closed_by_request=row.closed_by_request,
        )


class VaccinationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def get(self, record_id: uuid.UUID) -> Vaccination | None:
        row = await self._db.get(VaccinationRow, record_id)
        return _vaccination(row) if row else None

    async def lock_child(self, child_id: uuid.UUID, programme: str) -> None:
        """Hold the child's records of a programme for this transaction: checks of 'already recorded' serialise."""
        key = f"vaccination:{child_id}:{programme}"
        await self._db.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})

    async def on_day(self, child_id: uuid.UUID, programme: str, day: date) -> Vaccination | None:
        """The first outcome recorded for the child and programme on `day`, if any."""
        row = await self._db.scalar(
            select(VaccinationRow)
            .where(
                VaccinationRow.child_id == child_id,
                VaccinationRow.programme == programme,
                VaccinationRow.session_date == day,
            )
            .order_by(VaccinationRow.recorded_at)
            .limit(1)
        )
        return _vaccination(row) if row else None

    async def add(self, v: Vaccination) -> bool:
        """False if a record with this id already exists (a concurrent repeat)."""
        statement = (
            insert(VaccinationRow)
            .values(
                record_id=v.record_id,
                child_id=v.child_id,
                team_ods=v.team_ods,
                programme=v.programme,
                session_id=v.session_id,
                session_kind=v.session_kind.value,
                academic_year=v.academic_year,
                session_date=v.session_date,
                outcome=v.outcome.value,
                reason=v.reason,
                venue_id=v.venue_id,
                parent_present=v.parent_present,
                performed_at=v.performed_at,
                recorded_by=v.recorded_by,
            )
            .on_conflict_do_nothing(index_elements=["record_id"])
            .returning(VaccinationRow.record_id)
        )
        return (await self._db.execute(statement)).first() is not None


def _team(row: TeamRow) -> Team:
    return Team(
        ods_code=row.ods_code,
        name=row.name,
        email=row.email,
        phone=row.phone,
        booking_url=row.booking_url,
        days_before_invitations=row.days_before_invitations,
        send_window_start=row.send_window_start,
        send_window_end=row.send_window_end,
        reply_to_id=row.reply_to_id,
        programmes=tuple(row.programmes),
    )


def _session_values(session: Session) -> dict[str, object]:
    return {
        "session_id": session.session_id,
        "team_ods": session.team_ods,
        "kind": session.kind.value,
        "academic_year": session.academic_year,
        "programmes": list(session.programmes),
        "school_urn": session.school_urn,
        "closed_at": session.closed_at,
        "closed_by": session.closed_by,
        "closed_by_request": session.closed_by_request,
    }


def _vaccination(row: VaccinationRow) -> Vaccination:
    return Vaccination(
        record_id=row.record_id,
        child_id=row.child_id,
        team_ods=row.team_ods,
        programme=row.programme,
        session_id=row.session_id,
        session_kind=SessionKind(row.session_kind),
        academic_year=row.academic_year,
        session_date=row.session_date,
        outcome=Outcome(row.outcome),
        reason=row.reason,
        venue_id=row.venue_id,
        parent_present=row.parent_present,
        performed_at=row.performed_at,
        recorded_by=row.recorded_by,
    )
