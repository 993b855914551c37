"""Create the cohort tables: children (with parents), clinic memberships, local copies, activity log, imports.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from msgkit.migrations import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


CONTACTABLE = "jsonb_path_exists(parents, '$[*] ? (@.email != null || @.phone != null)')"


def _created() -> sa.Column[object]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _flag(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Boolean, nullable=False, server_default=sa.text("false"))


def _children() -> None:
    op.create_table(
        "children",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("nhs_number", sa.String(10)),
        sa.Column("first_name", sa.String(300), nullable=False),
        sa.Column("last_name", sa.String(300), nullable=False),
        sa.Column("date_of_birth", sa.Date, nullable=False),
        sa.Column("postcode", sa.String(10), nullable=False),
        sa.Column("school_urn", sa.String(6), nullable=False),
        sa.Column("year_group", sa.SmallInteger),
        sa.Column("parents", JSONB, nullable=False, server_default=sa.text("'[]'")),
        sa.Column("contactable", sa.Boolean, sa.Computed(CONTACTABLE, persisted=True)),
        _flag("deceased"),
        _flag("restricted"),
        _flag("invalidated"),
        _flag("archived"),
        _created(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index(
        "uq_children_team_nhs_number",
        "children",
        ["team_ods", "nhs_number"],
        unique=True,
        postgresql_where=sa.text("nhs_number IS NOT NULL"),
    )
    op.create_index("ix_children_team_school", "children", ["team_ods", "school_urn"])
    op.create_index("ix_children_team_last_name", "children", ["team_ods", sa.text("lower(last_name)")])
    op.create_table(
        "clinic_memberships",
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("programme", sa.String(20), nullable=False),
        sa.Column("joined_on", sa.Date, nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("child_id", "team_ods", "academic_year", "programme", name="pk_clinic_memberships"),
    )
    op.create_index(
        "ix_clinic_memberships_team_year_programme",
        "clinic_memberships",
        ["team_ods", "academic_year", "programme"],
    )


def _copies() -> None:
    op.create_table(
        "teams",
        sa.Column("ods_code", sa.String(10), primary_key=True),
        sa.Column("programmes", ARRAY(sa.String(20)), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "school_sessions",
        sa.Column("session_id", sa.Uuid, primary_key=True),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("school_urn", sa.String(6), nullable=False),
        sa.Column("programmes", ARRAY(sa.String(20)), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("dates", ARRAY(sa.Date), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "vaccinations",
        sa.Column("record_id", sa.Uuid, primary_key=True),
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("programme", sa.String(20), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(40)),
        sa.Column("performed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_vaccinations_child_id", "vaccinations", ["child_id"])
    op.create_table(
        "consents",
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("programme", sa.String(20), nullable=False),
        sa.Column("academic_year", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("child_id", "programme", "academic_year", name="pk_consents"),
    )
    op.create_table(
        "invitations",
        sa.Column("invitation_id", sa.Uuid, primary_key=True),
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("programmes", ARRAY(sa.String(20))),
        sa.Column("academic_year", sa.Integer),
        sa.Column("kind", sa.String(20)),
        sa.Column("due_at", sa.DateTime(timezone=True)),
        sa.Column("sent", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("cancelled_reason", sa.String(200)),
    )
    op.create_index("ix_invitations_child_id", "invitations", ["child_id"])


def _activity_and_replies() -> None:
    op.create_table(
        "activity_log",
        sa.Column("child_id", sa.Uuid, primary_key=True),
        sa.Column("source_key", sa.Uuid, primary_key=True),
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("details", JSONB, nullable=False),
    )
    op.create_index("ix_activity_log_child_time", "activity_log", ["child_id", "occurred_at", "id"])
    op.create_table(
        "replies",
        sa.Column("message_id", sa.Uuid, primary_key=True),
        sa.Column("reply", JSONB, nullable=False),
        _created(),
    )


def _imports() -> None:
    op.create_table(
        "imports",
        sa.Column("import_id", sa.Uuid, primary_key=True),
        sa.Column("team_ods", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default=sa.text("'staging'")),
        sa.Column("programmes", ARRAY(sa.String(20))),
        sa.Column("academic_year", sa.Integer),
        sa.Column("joined_on", sa.Date),
        sa.Column("applied_through", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("joined", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("result", JSONB),
        _created(),
        sa.Column("committed_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "import_chunks",
        sa.Column("import_id", sa.Uuid, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("import_id", "sequence", name="pk_import_chunks"),
    )
    op.create_table(
        "import_rows",
        sa.Column("import_id", sa.Uuid, nullable=False),
        sa.Column("row_number", sa.Integer, nullable=False),
        sa.Column("nhs_number", sa.String(10)),
        sa.Column("first_name", sa.String(300), nullable=False),
        sa.Column("last_name", sa.String(300), nullable=False),
        sa.Column("date_of_birth", sa.Date, nullable=False),
        sa.Column("postcode", sa.String(10), nullable=False),
        sa.Column("school_urn", sa.String(6), nullable=False),
        sa.Column("year_group", sa.SmallInteger),
        sa.Column("parents", JSONB, nullable=False),
        sa.Column("new_child_id", sa.Uuid, nullable=False),
        sa.Column("child_id", sa.Uuid),
        sa.Column("outcome", sa.String(20)),
        sa.PrimaryKeyConstraint("import_id", "row_number", name="pk_import_rows"),
    )
    op.create_table(
        "import_errors",
        sa.Column("import_id", sa.Uuid, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("row_number", sa.Integer, nullable=False),
        sa.Column("column", sa.String(100), nullable=False),
        sa.Column("message", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("import_id", "row_number", "column", "message", name="pk_import_errors"),
    )


def upgrade() -> None:
    create_messaging_tables()
    # Bodies live for milliseconds; compressing a 1,000-child batch would cost more than it saves.
    op.execute("ALTER TABLE outbox_messages ALTER COLUMN body SET STORAGE EXTERNAL")
    _children()
    _copies()
    _activity_and_replies()
    _imports()


def downgrade() -> None:
    for table in (
        "import_errors",
        "import_rows",
        "import_chunks",
        "imports",
        "replies",
        "activity_log",
        "invitations",
        "consents",
        "vaccinations",
        "school_sessions",
        "teams",
        "clinic_memberships",
        "children",
        "processed_messages",
        "outbox_messages",
    ):
        op.drop_table(table)
