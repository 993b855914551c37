"""Create the messaging tables, local copies, consent responses and consent requests.

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
        sa.Column("source_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "children",
        sa.Column("child_id", sa.Uuid, primary_key=True),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("deceased", sa.Boolean, nullable=False),
        sa.Column("restricted", sa.Boolean, nullable=False),
        sa.Column("invalidated", sa.Boolean, nullable=False),
        sa.Column("archived", sa.Boolean, nullable=False),
        sa.Column("source_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "parents",
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("parent_id", sa.Uuid, nullable=False),
        sa.Column("has_email", sa.Boolean, nullable=False),
        sa.Column("has_phone", sa.Boolean, nullable=False),
        sa.Column("receive_updates", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("child_id", "parent_id"),
    )
    op.create_table(
        "clinic_memberships",
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("programmes", sa.ARRAY(sa.String(20)), nullable=False),
        sa.Column("joined_on", sa.Date, nullable=False),
        sa.PrimaryKeyConstraint("child_id", "team_ods", "academic_year"),
    )
    op.create_table(
        "clinic_sessions",
        sa.Column("session_id", sa.Uuid, primary_key=True),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("programmes", sa.ARRAY(sa.String(20)), nullable=False),
        sa.Column("last_date", sa.Date, nullable=True),
        sa.Column("consent_window_closes_on", sa.Date, nullable=True),
        sa.Column("source_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_clinic_sessions_team_year", "clinic_sessions", ["team_ods", "academic_year"])
    op.create_table(
        "consent_responses",
        sa.Column("consent_id", sa.Uuid, primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("programme", sa.String(20), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("response", sa.String(20), nullable=False),
        sa.Column("route", sa.String(30), nullable=False),
        sa.Column("parent_id", sa.Uuid, nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_consent_responses_child", "consent_responses", ["child_id", "academic_year"])
    op.create_table(
        "consent_requests",
        sa.Column("request_id", sa.Uuid, primary_key=True),
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("programmes", sa.ARRAY(sa.String(20)), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_consent_requests_child", "consent_requests", ["child_id"])


def downgrade() -> None:
    for table in (
        "consent_requests",
        "consent_responses",
        "clinic_sessions",
        "clinic_memberships",
        "parents",
        "children",
        "teams",
        "processed_messages",
        "outbox_messages",
    ):
        op.drop_table(table)
