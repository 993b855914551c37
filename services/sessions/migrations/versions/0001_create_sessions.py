"""Create teams, locations, sessions, session dates, vaccination records and the messaging tables.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from msgkit.migrations import create_messaging_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "teams",
        sa.Column("ods_code", sa.String(10), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("phone", sa.String(300), nullable=False),
        sa.Column("booking_url", sa.Text, nullable=True),
        sa.Column("days_before_invitations", sa.Integer, nullable=False),
        sa.Column("send_window_start", sa.Time, nullable=False),
        sa.Column("send_window_end", sa.Time, nullable=False),
        sa.Column("reply_to_id", sa.String(200), nullable=True),
        sa.Column("programmes", sa.ARRAY(sa.String(20)), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "locations",
        sa.Column("team_ods", sa.String(10), sa.ForeignKey("teams.ods_code"), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("location_id", sa.String(300), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("session_id", sa.Uuid, primary_key=True),
        sa.Column("team_ods", sa.String(10), sa.ForeignKey("teams.ods_code"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("programmes", sa.ARRAY(sa.String(20)), nullable=False),
        sa.Column("school_urn", sa.String(6), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("(kind = 'school') = (school_urn IS NOT NULL)", name="ck_sessions_school_has_urn"),
    )
    op.create_index(
        "uq_sessions_clinic",
        "sessions",
        ["team_ods", "academic_year", "programmes"],
        unique=True,
        postgresql_where=sa.text("kind = 'clinic'"),
    )
    op.create_table(
        "session_dates",
        sa.Column("session_id", sa.Uuid, sa.ForeignKey("sessions.session_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("venue_id", sa.String(300), nullable=True),
    )
    op.create_table(
        "vaccination_records",
        sa.Column("record_id", sa.Uuid, primary_key=True),
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("programme", sa.String(20), nullable=False),
        sa.Column("session_id", sa.Uuid, sa.ForeignKey("sessions.session_id"), nullable=False),
        sa.Column("session_kind", sa.String(20), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("session_date", sa.Date, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(40), nullable=True),
        sa.Column("venue_id", sa.String(300), nullable=True),
        sa.Column("parent_present", sa.Boolean, nullable=False),
        sa.Column("performed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_vaccination_records_session_day", "vaccination_records", ["session_id", "session_date"])
    op.create_index("ix_vaccination_records_child", "vaccination_records", ["child_id"])


def downgrade() -> None:
    op.drop_table("vaccination_records")
    op.drop_table("session_dates")
    op.drop_table("sessions")
    op.drop_table("locations")
    op.drop_table("teams")
    op.drop_table("processed_messages")
    op.drop_table("outbox_messages")
