"""Tables of the sessions service (the schema comes from the engine's search_path)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    Uuid,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from contracts.sessions import SessionKind
from msgkit.tables import messaging_tables

metadata = MetaData()
# The rows of each kind (the team's one community clinic per year and programme set is unique among them).
SCHOOL_ONLY = f"kind = '{SessionKind.SCHOOL}'"
CLINIC_ONLY = f"kind = '{SessionKind.CLINIC}'"
messaging = messaging_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class TeamRow(Base):
    __tablename__ = "teams"

    ods_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str] = mapped_column(String(300))
    booking_url: Mapped[str | None] = mapped_column(Text)
    days_before_invitations: Mapped[int] = mapped_column(Integer)
    send_window_start: Mapped[time] = mapped_column(Time)
    send_window_end: Mapped[time] = mapped_column(Time)
    reply_to_id: Mapped[str | None] = mapped_column(String(200))
    programmes: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LocationRow(Base):
    __tablename__ = "locations"

    team_ods: Mapped[str] = mapped_column(String(10), ForeignKey("teams.ods_code"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    location_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))


class SessionRow(Base):
    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint(f"({SCHOOL_ONLY}) = (school_urn IS NOT NULL)", name="ck_sessions_school_has_urn"),
        # One community clinic session per team, academic year and (sorted) programme set.
        Index(
            "uq_sessions_clinic",
            "team_ods",
            "academic_year",
            "programmes",
            unique=True,
            postgresql_where=text(CLINIC_ONLY),
        ),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_ods: Mapped[str] = mapped_column(String(10), ForeignKey("teams.ods_code"))
    kind: Mapped[str] = mapped_column(String(20))
    academic_year: Mapped[int] = mapped_column(Integer)
    programmes: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    school_urn: Mapped[str | None] = mapped_column(String(6))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(200))
    # The request that closed it (migration 0003): its redelivery is not a second close.
    closed_by_request: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SessionDateRow(Base):
    __tablename__ = "session_dates"

    session_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("sessions.session_id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    venue_id: Mapped[str | None] = mapped_column(String(300))


class VaccinationRow(Base):
    __tablename__ = "vaccination_records"
    __table_args__ = (
        Index("ix_vaccination_records_session_day", "session_id", "session_date"),
        Index("ix_vaccination_records_child", "child_id"),
    )

    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    team_ods: Mapped[str] = mapped_column(String(10))
    programme: Mapped[str] = mapped_column(String(20))
    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("sessions.session_id"))
    session_kind: Mapped[str] = mapped_column(String(20))
    academic_year: Mapped[int] = mapped_column(Integer)
    session_date: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    venue_id: Mapped[str | None] = mapped_column(String(300))
    parent_present: Mapped[bool] = mapped_column(Boolean)
    performed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
