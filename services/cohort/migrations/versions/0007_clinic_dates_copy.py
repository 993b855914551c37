"""A copy of each team's community clinic dates, so a walk-in is added only on a clinic day.

Revision ID: 0007
Revises: 0006

A walk-in (a child who turns up at today's clinic) was accepted on any day, clinic or not (issue 19,
item 14). Cohort now keeps the dates of each clinic session from ClinicDatesChanged (the newest change
wins) and refuses a walk-in when the team has no clinic today.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clinic_sessions",
        sa.Column("session_id", sa.Uuid, primary_key=True),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("programmes", ARRAY(sa.String(20)), nullable=False),
        sa.Column("dates", ARRAY(sa.Date), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_clinic_sessions_team", "clinic_sessions", ["team_ods"])


def downgrade() -> None:
    op.drop_table("clinic_sessions")
