"""Index due notifications by channel, for claims while one channel's daily limit is used up.

Revision ID: 0004
Revises: 0003

A channel whose day is used up is not claimed until midnight and its messages stay due; claims of the
other channel then read this index, not the due index past every message of the full one (a million
on a national day, at each claim).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_notifications_due_by_channel",
        "notifications",
        ["channel", "next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_due_by_channel", table_name="notifications")
