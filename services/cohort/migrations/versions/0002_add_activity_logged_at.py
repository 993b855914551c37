"""Add activity_log.logged_at: when an entry was written, beside when its event occurred.

Revision ID: 0002
Revises: 0001

An event can reach cohort long after it occurred (a backlog, a replayed dead letter); staff and
operators can now tell how late a log is, and the benchmark measures how far it trails its events.
PostgreSQL 11+ stores the default for existing rows without rewriting the table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "activity_log",
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_column("activity_log", "logged_at")
