"""The clinic children list at national scale: each membership row carries what the list sorts and filters by.

Revision ID: 0004
Revises: 0003

With 100,000 children a team (a million in the database), counting a filtered clinic list by asking the
invitations, consents and vaccinations of each of ~30,000 members took half a second per filter, and a
page sorted by name joined every member to its child first. A membership now carries `invited`,
`consent_status` and `vaccinated`, and its child's `last_name` and `first_name`; one index in list order
holds them all, so a count is one index-only scan and a page (numbered or after a keyset cursor) reads
on from where it starts until it has its rows, whatever the filter.

They are kept by the database, not by each writer: statement-level triggers on every table they derive
from (consents, vaccinations, invitations, children, and memberships as they are inserted) recompute them
for the children a statement touched, by the rules the list used (`clinic_status_refresh`). A bulk import
or a thousand-row InvitationsScheduled costs one set-based UPDATE, and no code path (SQL imports, copies,
replays) can forget them. The trigger locks the children's rows first (FOR NO KEY UPDATE, in id order): a
consent and a membership of one child written by concurrent transactions are then seen one after the
other, never both missed.

Also: children by (team, lower(last name), last name, first name, id), so `children find --last-name`
reads its first 100 in order instead of sorting every namesake.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The rules of the list (cohort.queries before this revision): invited when an invitation for the
# programme and year exists, or a sent one not yet seen scheduled; consent as the consent copy says;
# vaccinated when given (or had elsewhere) this year, or ever for a lifelong programme (the domain's
# programme_done: tests/integration/test_sql_rules.py holds this frozen copy to it).
# `{m}` is the membership the statuses are of.
STATUSES = """
    EXISTS (SELECT 1 FROM invitations i WHERE i.child_id = {m}.child_id
            AND ((i.academic_year = {m}.academic_year AND {m}.programme = ANY(i.programmes))
                 OR (i.sent AND i.programmes IS NULL))) AS invited,
    coalesce((SELECT k.status FROM consents k WHERE k.child_id = {m}.child_id AND k.programme = {m}.programme
              AND k.academic_year = {m}.academic_year), 'no_response') AS consent_status,
    EXISTS (SELECT 1 FROM vaccinations v WHERE v.child_id = {m}.child_id AND v.programme = {m}.programme
            AND (v.outcome = 'vaccinated' OR v.reason = 'already_had')
            AND (v.academic_year = {m}.academic_year OR v.programme <> 'flu')) AS vaccinated
"""
_KEPT = ("invited", "consent_status", "vaccinated", "last_name", "first_name")
KEPT = f"({', '.join(_KEPT)})"


def kept(alias: str) -> str:
    return f"({', '.join(f'{alias}.{c}' for c in _KEPT)})"


# Every membership of these children set as the rules say; only rows that differ are written.
REFRESH = f"""
CREATE FUNCTION clinic_status_refresh(ids uuid[]) RETURNS void LANGUAGE sql
    SET search_path FROM CURRENT SET jit = off AS $$
    UPDATE clinic_memberships m SET {KEPT} = {kept("s")}
    FROM (
        SELECT m2.child_id, m2.team_ods, m2.academic_year, m2.programme, c.last_name, c.first_name,
               {STATUSES.format(m="m2")}
        FROM clinic_memberships m2 JOIN children c ON c.id = m2.child_id
        WHERE m2.child_id IN (SELECT unnest(ids))
    ) s
    WHERE m.child_id = s.child_id AND m.team_ods = s.team_ods AND m.academic_year = s.academic_year
      AND m.programme = s.programme
      AND {kept("m")} IS DISTINCT FROM {kept("s")}
$$
"""
# Functions resolve tables in the service's schema (the migration's search_path), whoever calls them; and
# never JIT-compile: a thousand rows' subplans are costed high enough to compile for ~0.7 s, to save ~0.1.
# Every trigger names its transition table `changed`. A write to a copy (or to a child) refreshes the
# memberships of the children it touched.
CHANGED = """
CREATE FUNCTION clinic_status_changed() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT SET jit = off AS $$
DECLARE
    ids uuid[];
BEGIN
    IF TG_TABLE_NAME = 'children' THEN
        SELECT array_agg(id ORDER BY id) INTO ids FROM changed;
    ELSE
        SELECT array_agg(DISTINCT child_id ORDER BY child_id) INTO ids FROM changed;
    END IF;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM children WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
    PERFORM clinic_status_refresh(ids);
    RETURN NULL;
END
$$
"""
# New memberships are judged from the inserted rows alone, and rewritten only where the insert did not
# already say what the rules say: an import that gives the names of children with nothing recorded yet
# (the usual case) writes nothing more.
JOINED = f"""
CREATE FUNCTION clinic_status_joined() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT SET jit = off AS $$
BEGIN
    PERFORM 1 FROM children WHERE id IN (SELECT child_id FROM changed) ORDER BY id FOR NO KEY UPDATE;
    WITH judged AS MATERIALIZED (
        SELECT n.child_id, n.team_ods, n.academic_year, n.programme, ROW{kept("n")} AS given,
               c.last_name, c.first_name, {STATUSES.format(m="n")}
        FROM changed n JOIN children c ON c.id = n.child_id
    )
    UPDATE clinic_memberships m SET {KEPT} = {kept("j")}
    FROM judged j
    WHERE j.given IS DISTINCT FROM ROW{kept("j")}
      AND m.child_id = j.child_id AND m.team_ods = j.team_ods AND m.academic_year = j.academic_year
      AND m.programme = j.programme;
    RETURN NULL;
END
$$
"""
SOURCES = {
    "consents": ("INSERT", "UPDATE", "DELETE"),
    "vaccinations": ("INSERT", "UPDATE", "DELETE"),
    "invitations": ("INSERT", "UPDATE", "DELETE"),
    "children": ("UPDATE",),
    "clinic_memberships": ("INSERT",),
}


def _trigger_name(table: str, event: str) -> str:
    return f"trg_{table}_{event.lower()}_clinic_status"


def upgrade() -> None:
    columns = [
        sa.Column("invited", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("consent_status", sa.String(20), nullable=False, server_default=sa.text("'no_response'")),
        sa.Column("vaccinated", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("last_name", sa.String(300), nullable=False, server_default=sa.text("''")),
        sa.Column("first_name", sa.String(300), nullable=False, server_default=sa.text("''")),
    ]
    for column in columns:
        op.add_column("clinic_memberships", column)
    for function in (REFRESH, CHANGED, JOINED):
        op.execute(function)
    for table, events in SOURCES.items():
        for event in events:
            rows = "OLD" if event == "DELETE" else "NEW"
            function = "clinic_status_joined" if table == "clinic_memberships" else "clinic_status_changed"
            op.execute(
                f"CREATE TRIGGER {_trigger_name(table, event)} AFTER {event} ON {table} "
                f"REFERENCING {rows} TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
    op.execute("SELECT clinic_status_refresh(ARRAY(SELECT DISTINCT child_id FROM clinic_memberships))")
    op.drop_index("ix_clinic_memberships_team_year_programme", table_name="clinic_memberships")
    op.create_index(
        "ix_clinic_memberships_list",
        "clinic_memberships",
        ["team_ods", "academic_year", "programme", "last_name", "first_name", "child_id"],
        postgresql_include=["invited", "consent_status", "vaccinated", "joined_on", "reason"],
    )
    op.drop_index("ix_children_team_last_name", table_name="children")
    op.create_index(
        "ix_children_team_last_name",
        "children",
        ["team_ods", sa.text("lower(last_name)"), "last_name", "first_name", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_children_team_last_name", table_name="children")
    op.create_index("ix_children_team_last_name", "children", ["team_ods", sa.text("lower(last_name)")])
    op.drop_index("ix_clinic_memberships_list", table_name="clinic_memberships")
    op.create_index(
        "ix_clinic_memberships_team_year_programme",
        "clinic_memberships",
        ["team_ods", "academic_year", "programme"],
    )
    for table, events in SOURCES.items():
        for event in events:
            op.execute(f"DROP TRIGGER {_trigger_name(table, event)} ON {table}")
    op.execute("DROP FUNCTION clinic_status_joined()")
    op.execute("DROP FUNCTION clinic_status_changed()")
    op.execute("DROP FUNCTION clinic_status_refresh(uuid[])")
    for column in ("first_name", "last_name", "vaccinated", "consent_status", "invited"):
        op.drop_column("clinic_memberships", column)
