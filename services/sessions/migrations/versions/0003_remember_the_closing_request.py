"""Remember which request closed a school session, so a second *Send clinic invitations* can say so.

Revision ID: 0003
Revises: 0002

A second close was a silent success: staff could not tell that nothing was sent (issue 19, item 14). The
reply now says whether the session was already closed; a redelivery of the closing request itself is not
a second close, so the request's message id is kept with the session.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sessions", sa.Column("closed_by_request", sa.Uuid))


def downgrade() -> None:
    op.drop_column("sessions", "closed_by_request")
