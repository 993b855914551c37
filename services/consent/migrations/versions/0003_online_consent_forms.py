"""Online consent forms (issue 20): the forms as submitted, match keys, and what online responses add.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("children", sa.Column("match_key", sa.String(64), nullable=True))
    op.create_index("ix_children_match", "children", ["team_ods", "match_key"])
    op.add_column("children", sa.Column("first_name", sa.String(300), nullable=True))
    op.add_column("children", sa.Column("last_name", sa.String(300), nullable=True))
    op.add_column("teams", sa.Column("email", sa.String(320), nullable=True))
    op.add_column("teams", sa.Column("phone", sa.String(300), nullable=True))
    op.add_column("parents", sa.Column("email_key", sa.String(64), nullable=True))
    op.add_column("parents", sa.Column("phone_key", sa.String(64), nullable=True))
    responses = "consent_responses"
    op.add_column(responses, sa.Column("vaccine_methods", ARRAY(sa.String(20)), nullable=False, server_default="{}"))
    op.add_column(responses, sa.Column("follow_up_requested", sa.Boolean, nullable=False, server_default="false"))
    op.add_column(responses, sa.Column("respondent", sa.String(64), nullable=True))
    op.add_column(responses, sa.Column("form_response_id", sa.Uuid, nullable=True))
    op.create_table(
        "consent_forms",
        sa.Column("response_id", sa.Uuid, primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("link_kind", sa.String(10), nullable=False),
        sa.Column("request_id", sa.Uuid, nullable=True),
        sa.Column("programmes", ARRAY(sa.String(20)), nullable=False),
        sa.Column("answers", JSONB, nullable=False),
        sa.Column("needs_triage", sa.Boolean, nullable=False),
        sa.Column("match_key", sa.String(64), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("child_id", sa.Uuid, nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.String(300), nullable=True),
    )
    op.create_index("ix_consent_forms_waiting", "consent_forms", ["team_ods", "state", "seq"])
    op.create_index("ix_consent_forms_child", "consent_forms", ["child_id"])
    where = sa.text("state = 'unmatched'")
    op.create_index("ix_consent_forms_match", "consent_forms", ["match_key"], postgresql_where=where)


def downgrade() -> None:
    op.drop_table("consent_forms")
    for column in ("form_response_id", "respondent", "follow_up_requested", "vaccine_methods"):
        op.drop_column("consent_responses", column)
    op.drop_column("parents", "phone_key")
    op.drop_column("parents", "email_key")
    op.drop_index("ix_children_match", "children")
    for column in ("match_key", "first_name", "last_name"):
        op.drop_column("children", column)
    op.drop_column("teams", "email")
    op.drop_column("teams", "phone")
