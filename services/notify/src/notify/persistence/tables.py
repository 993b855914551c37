"""Notify's tables: local copies from events, the invitation ledger, notifications and send limits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Time,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from msgkit.tables import messaging_tables

metadata = MetaData()
messaging = messaging_tables(metadata)


def _at(name: str, nullable: bool = False) -> Column[Any]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


# --- local copies, kept from other services' events --------------------------------------------

teams = Table(
    "teams",
    metadata,
    Column("ods_code", String(10), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("email", String(320), nullable=False),
    Column("phone", String(300), nullable=False),
    Column("booking_url", Text, nullable=True),
    Column("reply_to_id", String(100), nullable=True),
    Column("days_before_invitations", Integer, nullable=False),
    Column("send_window_start", Time, nullable=False),
    Column("send_window_end", Time, nullable=False),
    _at("updated_at"),
)

clinic_sessions = Table(
    "clinic_sessions",
    metadata,
    Column("session_id", Uuid, primary_key=True),
    Column("team_ods", String(10), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("programmes", ARRAY(String(20)), nullable=False),
    Column("dates", ARRAY(Date), nullable=False),
    _at("updated_at"),
    Index("ix_clinic_sessions_team_year", "team_ods", "academic_year"),
)

children = Table(
    "children",
    metadata,
    Column("child_id", Uuid, primary_key=True),
    Column("team_ods", String(10), nullable=False),
    Column("first_name", String(300), nullable=False),
    Column("last_name", String(300), nullable=False),
    Column("deceased", Boolean, nullable=False),
    Column("restricted", Boolean, nullable=False),
    Column("invalidated", Boolean, nullable=False),
    Column("archived", Boolean, nullable=False),
    Column("parents", JSONB, nullable=False),
    _at("updated_at"),
)

cohort_leavers = Table(
    "cohort_leavers",
    metadata,
    Column("child_id", Uuid, nullable=False),
    Column("team_ods", String(10), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("reason", String(300), nullable=False),
    _at("removed_at"),
    PrimaryKeyConstraint("child_id", "team_ods", "academic_year"),
)

programme_outcomes = Table(
    "programme_outcomes",
    metadata,
    Column("child_id", Uuid, nullable=False),
    Column("programme", String(20), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("vaccinated", Boolean, nullable=False, server_default=text("false")),
    Column("consent_status", String(20), nullable=True),
    _at("consent_at", nullable=True),
    PrimaryKeyConstraint("child_id", "programme", "academic_year"),
)

# --- the invitation ledger -------------------------------------------------------------------

invitations = Table(
    "invitations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("child_id", Uuid, nullable=False),
    Column("team_ods", String(10), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("programmes", ARRAY(String(20)), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("trigger", String(20), nullable=False),
    Column("reason", String(40), nullable=False),
    Column("requested_by", String(200), nullable=True),
    _at("requested_at"),
    Column("status", String(20), nullable=False),
    _at("due_at", nullable=True),
    Column("cancel_reason", String(300), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    _at("updated_at"),
    Index("ix_invitations_due", "due_at", postgresql_where=text("status = 'scheduled'")),
    Index(
        "ix_invitations_unsent",
        "team_ods",
        "academic_year",
        postgresql_where=text("status IN ('waiting', 'scheduled')"),
    ),
    Index("ix_invitations_child", "child_id"),
)

# One row per (child, team, year, programme) ever invited: the constraint that makes a second
# initial invitation impossible, whatever the number of replicas, retries or repeated clicks.
invitation_ledger = Table(
    "invitation_ledger",
    metadata,
    Column("child_id", Uuid, nullable=False),
    Column("team_ods", String(10), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("programme", String(20), nullable=False),
    Column("invitation_id", Uuid, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("child_id", "team_ods", "academic_year", "programme"),
    # Deferred: bulk inserts write the ledger first, to learn which programmes are new.
    ForeignKeyConstraint(["invitation_id"], ["invitations.id"], deferrable=True, initially="DEFERRED"),
    Index("ix_invitation_ledger_invitation", "invitation_id"),
)

# --- notifications: one message to one recipient on one channel ------------------------------

notifications = Table(
    "notifications",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("invitation_id", Uuid, ForeignKey("invitations.id"), nullable=True),
    Column("child_id", Uuid, nullable=False),
    Column("parent_id", Uuid, nullable=True),
    Column("team_ods", String(10), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("to", String(320), nullable=False),
    Column("template_id", String(100), nullable=False),
    Column("personalisation", JSONB, nullable=False),
    Column("reply_to_id", String(100), nullable=True),
    Column("window_start", Time, nullable=True),
    Column("window_end", Time, nullable=True),
    # What the message is about, to re-check it as it is sent (null only on messages finished before 0002).
    Column("programmes", ARRAY(String(20)), nullable=True),
    Column("academic_year", Integer, nullable=True),
    # Stored before the provider is called, so an ambiguous failure can be looked up, never resent blind.
    Column("reference", String(100), nullable=False, unique=True),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    _at("next_attempt_at"),
    _at("attempt_started_at", nullable=True),
    Column("needs_lookup", Boolean, nullable=False, server_default=text("false")),
    Column("provider_id", String(100), nullable=True),
    Column("last_error", String(300), nullable=True),
    Column("cancel_reason", String(300), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    _at("sent_at", nullable=True),
    _at("completed_at", nullable=True),
    Index("ix_notifications_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    # Claims of one channel while the other's day is used up (0004).
    Index("ix_notifications_due_by_channel", "channel", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    Index("ix_notifications_in_flight", "attempt_started_at", postgresql_where=text("status = 'sending'")),
    Index("ix_notifications_provider_id", "provider_id"),
    Index("ix_notifications_child", "child_id"),
    Index("ix_notifications_invitation", "invitation_id"),
)

# --- send limits shared by every replica -----------------------------------------------------

rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("tokens", Double, nullable=False),
    Column("capacity", Double, nullable=False),
    Column("refill_per_second", Double, nullable=False),
    Column("last_taken", Integer, nullable=False, server_default=text("0")),
    _at("updated_at"),
)

daily_sends = Table(
    "daily_sends",
    metadata,
    Column("day", Date, nullable=False),
    Column("channel", String(10), nullable=False),
    Column("sent", Integer, nullable=False),
    Column("last_granted", Integer, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("day", "channel"),
)
