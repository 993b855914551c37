"""Hold for staff review an import row that would change an existing child, or may be a duplicate of one.

Revision ID: 0005
Revises: 0004

A row matched by NHS number whose name, date of birth, postcode or school differ, or matched without an
NHS number on three of first name, last name, date of birth and postcode, used to be applied at once (a
changed surname silently) or created as a second child. Such a row is now copied to `import_reviews` with
what it uploaded, and neither changes nor invites anyone until staff decide it (use the upload, keep the
existing record, keep both). `import_rows.matched_on` says how a row found its child: only a row matched
without an NHS number may become a second child.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("import_rows", sa.Column("matched_on", sa.String(20)))
    op.create_table(
        "import_reviews",
        sa.Column("import_id", sa.Uuid, nullable=False),
        sa.Column("row_number", sa.Integer, nullable=False),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("matched_on", sa.String(20), nullable=False),
        sa.Column("nhs_number", sa.String(10)),
        sa.Column("first_name", sa.String(300), nullable=False),
        sa.Column("last_name", sa.String(300), nullable=False),
        sa.Column("date_of_birth", sa.Date, nullable=False),
        sa.Column("postcode", sa.String(10), nullable=False),
        sa.Column("school_urn", sa.String(6), nullable=False),
        sa.Column("year_group", sa.SmallInteger),
        sa.Column("parents", JSONB, nullable=False),
        sa.Column("new_child_id", sa.Uuid, nullable=False),
        sa.Column("decision", sa.String(20)),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("import_id", "row_number", name="pk_import_reviews"),
    )
    # Staff find what is left to decide for a team.
    op.create_index(
        "ix_import_reviews_undecided",
        "import_reviews",
        ["team_ods", "import_id", "row_number"],
        postgresql_where=sa.text("decision IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_import_reviews_undecided", table_name="import_reviews")
    op.drop_table("import_reviews")
    op.drop_column("import_rows", "matched_on")
