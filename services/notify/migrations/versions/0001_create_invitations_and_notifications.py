"""Create the local copies, the invitation ledger, notifications and the shared send limits.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from msgkit.migrations import create_messaging_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _created() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "teams",
        sa.Column("ods_code", sa.String(10), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("phone", sa.String(300), nullable=False),
        sa.Column("booking_url", sa.Text, nullable=True),
        sa.Column("reply_to_id", sa.String(100), nullable=True),
        sa.Column("days_before_invitations", sa.Integer, nullable=False),
        sa.Column("send_window_start", sa.Time, nullable=False),
        sa.Column("send_window_end", sa.Time, nullable=False),
        _at("updated_at"),
    )
    op.create_table(
        "clinic_sessions",
        sa.Column("session_id", sa.Uuid, primary_key=True),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("programmes", ARRAY(sa.String(20)), nullable=False),
        sa.Column("dates", ARRAY(sa.Date), nullable=False),
        _at("updated_at"),
    )
    op.create_index("ix_clinic_sessions_team_year", "clinic_sessions", ["team_ods", "academic_year"])
    op.create_table(
        "children",
        sa.Column("child_id", sa.Uuid, primary_key=True),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("first_name", sa.String(300), nullable=False),
        sa.Column("last_name", sa.String(300), nullable=False),
        sa.Column("deceased", sa.Boolean, nullable=False),
        sa.Column("restricted", sa.Boolean, nullable=False),
        sa.Column("invalidated", sa.Boolean, nullable=False),
        sa.Column("archived", sa.Boolean, nullable=False),
        sa.Column("parents", JSONB, nullable=False),
        _at("updated_at"),
    )
    op.create_table(
        "cohort_leavers",
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        _at("removed_at"),
        sa.PrimaryKeyConstraint("child_id", "team_ods", "academic_year"),
    )
    op.create_table(
        "programme_outcomes",
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("programme", sa.String(20), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("vaccinated", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("consent_status", sa.String(20), nullable=True),
        _at("consent_at", nullable=True),
        sa.PrimaryKeyConstraint("child_id", "programme", "academic_year"),
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("programmes", ARRAY(sa.String(20)), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=True),
        _at("requested_at"),
        sa.Column("status", sa.String(20), nullable=False),
        _at("due_at", nullable=True),
        sa.Column("cancel_reason", sa.String(300), nullable=True),
        _created(),
        _at("updated_at"),
    )
    op.create_index("ix_invitations_due", "invitations", ["due_at"], postgresql_where=sa.text("status = 'scheduled'"))
    op.create_index(
        "ix_invitations_unsent",
        "invitations",
        ["team_ods", "academic_year"],
        postgresql_where=sa.text("status IN ('waiting', 'scheduled')"),
    )
    op.create_index("ix_invitations_child", "invitations", ["child_id"])
    op.create_table(
        "invitation_ledger",
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("programme", sa.String(20), nullable=False),
        sa.Column("invitation_id", sa.Uuid, nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("child_id", "team_ods", "academic_year", "programme"),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitations.id"], deferrable=True, initially="DEFERRED"),
    )
    op.create_index("ix_invitation_ledger_invitation", "invitation_ledger", ["invitation_id"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("invitation_id", sa.Uuid, sa.ForeignKey("invitations.id"), nullable=True),
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("parent_id", sa.Uuid, nullable=True),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("to", sa.String(320), nullable=False),
        sa.Column("template_id", sa.String(100), nullable=False),
        sa.Column("personalisation", JSONB, nullable=False),
        sa.Column("reply_to_id", sa.String(100), nullable=True),
        sa.Column("window_start", sa.Time, nullable=True),
        sa.Column("window_end", sa.Time, nullable=True),
        sa.Column("reference", sa.String(100), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        _at("next_attempt_at"),
        _at("attempt_started_at", nullable=True),
        sa.Column("needs_lookup", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("provider_id", sa.String(100), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        _created(),
        _at("sent_at", nullable=True),
        _at("completed_at", nullable=True),
    )
    op.create_index(
        "ix_notifications_due", "notifications", ["next_attempt_at"], postgresql_where=sa.text("status = 'pending'")
    )
    op.create_index(
        "ix_notifications_in_flight",
        "notifications",
        ["attempt_started_at"],
        postgresql_where=sa.text("status = 'sending'"),
    )
    op.create_index("ix_notifications_provider_id", "notifications", ["provider_id"])
    op.create_index("ix_notifications_child", "notifications", ["child_id"])
    op.create_index("ix_notifications_invitation", "notifications", ["invitation_id"])
    op.create_table(
        "rate_buckets",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("tokens", sa.Double, nullable=False),
        sa.Column("capacity", sa.Double, nullable=False),
        sa.Column("refill_per_second", sa.Double, nullable=False),
        sa.Column("last_taken", sa.Integer, nullable=False, server_default=sa.text("0")),
        _at("updated_at"),
    )
    op.create_table(
        "daily_sends",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("sent", sa.Integer, nullable=False),
        sa.Column("last_granted", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.PrimaryKeyConstraint("day", "channel"),
    )


def downgrade() -> None:
    for table in (
        "daily_sends",
        "rate_buckets",
        "notifications",
        "invitation_ledger",
        "invitations",
        "programme_outcomes",
        "cohort_leavers",
        "children",
        "clinic_sessions",
        "teams",
        "processed_messages",
        "outbox_messages",
    ):
        op.drop_table(table)
