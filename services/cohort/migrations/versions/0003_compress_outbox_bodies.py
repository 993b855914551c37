"""Compress outbox bodies with lz4: a bulk message's body no longer costs the server pglz's CPU.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from msgkit.migrations import compress_outbox_as_default, compress_outbox_with_lz4

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    compress_outbox_with_lz4()


def downgrade() -> None:
    compress_outbox_as_default()
