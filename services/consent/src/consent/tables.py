"""Tables of the consent service: local copies from events, consent responses and requests."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
)

from msgkit.tables import messaging_tables

metadata = MetaData()
messaging = messaging_tables(metadata)

# Local copies (built from other services' events; `source_at` keeps a late, older event from winning).
teams = Table(
    "teams",
    metadata,
    Column("ods_code", String(10), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("source_at", DateTime(timezone=True), nullable=False),
)

children = Table(
    "children",
    metadata,
    Column("child_id", Uuid, primary_key=True),
    Column("team_ods", String(10), nullable=False),
    Column("deceased", Boolean, nullable=False),
    Column("restricted", Boolean, nullable=False),
    Column("invalidated", Boolean, nullable=False),
    Column("archived", Boolean, nullable=False),
    Column("source_at", DateTime(timezone=True), nullable=False),
)

# Only whether a parent can be reached is kept: notify holds the addresses themselves.
parents = Table(
    "parents",
    metadata,
    Column("child_id", Uuid, nullable=False),
    Column("parent_id", Uuid, nullable=False),
    Column("has_email", Boolean, nullable=False),
    Column("has_phone", Boolean, nullable=False),
    Column("receive_updates", Boolean, nullable=False),
    PrimaryKeyConstraint("child_id", "parent_id"),
)

clinic_memberships = Table(
    "clinic_memberships",
    metadata,
    Column("child_id", Uuid, nullable=False),
    Column("team_ods", String(10), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("programmes", ARRAY(String(20)), nullable=False),
    Column("joined_on", Date, nullable=False),
    PrimaryKeyConstraint("child_id", "team_ods", "academic_year"),
)

clinic_sessions = Table(
    "clinic_sessions",
    metadata,
    Column("session_id", Uuid, primary_key=True),
    Column("team_ods", String(10), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("programmes", ARRAY(String(20)), nullable=False),
    Column("last_date", Date, nullable=True),
    Column("consent_window_closes_on", Date, nullable=True),
    Column("source_at", DateTime(timezone=True), nullable=False),
)
Index("ix_clinic_sessions_team_year", clinic_sessions.c.team_ods, clinic_sessions.c.academic_year)

# Consent's own records. Responses are append-only; status is computed from them.
consent_responses = Table(
    "consent_responses",
    metadata,
    Column("consent_id", Uuid, primary_key=True),
    Column("seq", BigInteger, Identity(always=True), nullable=False),
    Column("child_id", Uuid, nullable=False),
    Column("team_ods", String(10), nullable=False),
    Column("programme", String(20), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("response", String(20), nullable=False),
    Column("route", String(30), nullable=False),
    Column("parent_id", Uuid, nullable=True),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
Index("ix_consent_responses_child", consent_responses.c.child_id, consent_responses.c.academic_year)

consent_requests = Table(
    "consent_requests",
    metadata,
    Column("request_id", Uuid, primary_key=True),
    Column("child_id", Uuid, nullable=False),
    Column("team_ods", String(10), nullable=False),
    Column("programmes", ARRAY(String(20)), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("requested_by", String(200), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
)
Index("ix_consent_requests_child", consent_requests.c.child_id)
