"""Give each notification its programmes and academic year, so it can be re-checked as it is sent, and a cancel reason.

Revision ID: 0002
Revises: 0001

Only unfinished notifications (pending, sending) are backfilled: a finished one is never judged again,
and rewriting every row of a large table would hold the migration for nothing. Their programmes are
read back from the personalisation they will be sent with (``"HPV and flu"``; each name is its
programme's code lower-cased with "/" as "_"), their year from their invitation, else (consent
messages, which ask about the current year) from the day they were made, in England.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BACKFILL = """
    UPDATE notifications AS n
    SET programmes = ARRAY(
            SELECT replace(lower(btrim(p.name)), '/', '_')
            FROM unnest(regexp_split_to_array(n.personalisation ->> 'programmes', ', | and '))
                 WITH ORDINALITY AS p(name, position)
            ORDER BY p.position
        ),
        academic_year = COALESCE(
            (SELECT i.academic_year FROM invitations AS i WHERE i.id = n.invitation_id),
            CAST(extract(year FROM n.created_at AT TIME ZONE 'Europe/London') AS integer)
            - CASE WHEN extract(month FROM n.created_at AT TIME ZONE 'Europe/London') >= 9 THEN 0 ELSE 1 END
        )
    WHERE n.status IN ('pending', 'sending') AND n.personalisation ? 'programmes'
"""


def upgrade() -> None:
    op.add_column("notifications", sa.Column("programmes", ARRAY(sa.String(20)), nullable=True))
    op.add_column("notifications", sa.Column("academic_year", sa.Integer, nullable=True))
    op.add_column("notifications", sa.Column("cancel_reason", sa.String(300), nullable=True))
    op.execute(_BACKFILL)


def downgrade() -> None:
    for column in ("cancel_reason", "academic_year", "programmes"):
        op.drop_column("notifications", column)
