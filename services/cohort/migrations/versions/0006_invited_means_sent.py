"""*Invited to clinic* means a parent was sent an invitation, not that one was scheduled.

Revision ID: 0006
Revises: 0005

Until now a membership counted as invited as soon as an invitation for its programme and year existed:
scheduled, waiting for clinic dates, or cancelled (vaccinated, refused, restricted, no contact details),
so *Not invited* was always empty (issue 19, item 12). A membership is now invited when an invitation for
its programme and year was sent (NotificationsSent marks `invitations.sent`), or when a sent one has not
been seen scheduled yet (a NotificationsSent that overtook its InvitationsScheduled: programmes unknown).

The trigger functions of migration 0004 are replaced with the new rule (the rest as 0004 has it; this is
a frozen copy, as migrations are), and every membership is judged again.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_INVITED = {
    "sent": """
    EXISTS (SELECT 1 FROM invitations i WHERE i.child_id = {m}.child_id AND i.sent
            AND ((i.academic_year = {m}.academic_year AND {m}.programme = ANY(i.programmes))
                 OR i.programmes IS NULL)) AS invited,""",
    "exists": """
    EXISTS (SELECT 1 FROM invitations i WHERE i.child_id = {m}.child_id
            AND ((i.academic_year = {m}.academic_year AND {m}.programme = ANY(i.programmes))
                 OR (i.sent AND i.programmes IS NULL))) AS invited,""",
}
_OTHERS = """
    coalesce((SELECT k.status FROM consents k WHERE k.child_id = {m}.child_id AND k.programme = {m}.programme
              AND k.academic_year = {m}.academic_year), 'no_response') AS consent_status,
    EXISTS (SELECT 1 FROM vaccinations v WHERE v.child_id = {m}.child_id AND v.programme = {m}.programme
            AND (v.outcome = 'vaccinated' OR v.reason = 'already_had')
            AND (v.academic_year = {m}.academic_year OR v.programme <> 'flu')) AS vaccinated
"""
_KEPT = ("invited", "consent_status", "vaccinated", "last_name", "first_name")
KEPT = f"({', '.join(_KEPT)})"


def _kept(alias: str) -> str:
    return f"({', '.join(f'{alias}.{c}' for c in _KEPT)})"


def _statuses(rule: str, m: str) -> str:
    return (_INVITED[rule] + _OTHERS).format(m=m)


def _refresh(rule: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION clinic_status_refresh(ids uuid[]) RETURNS void LANGUAGE sql
    SET search_path FROM CURRENT SET jit = off AS $$
    UPDATE clinic_memberships m SET {KEPT} = {_kept("s")}
    FROM (
        SELECT m2.child_id, m2.team_ods, m2.academic_year, m2.programme, c.last_name, c.first_name,
               {_statuses(rule, "m2")}
        FROM clinic_memberships m2 JOIN children c ON c.id = m2.child_id
        WHERE m2.child_id IN (SELECT unnest(ids))
    ) s
    WHERE m.child_id = s.child_id AND m.team_ods = s.team_ods AND m.academic_year = s.academic_year
      AND m.programme = s.programme
      AND {_kept("m")} IS DISTINCT FROM {_kept("s")}
$$
"""


def _joined(rule: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION clinic_status_joined() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT SET jit = off AS $$
BEGIN
    PERFORM 1 FROM children WHERE id IN (SELECT child_id FROM changed) ORDER BY id FOR NO KEY UPDATE;
    WITH judged AS MATERIALIZED (
        SELECT n.child_id, n.team_ods, n.academic_year, n.programme, ROW{_kept("n")} AS given,
               c.last_name, c.first_name, {_statuses(rule, "n")}
        FROM changed n JOIN children c ON c.id = n.child_id
    )
    UPDATE clinic_memberships m SET {KEPT} = {_kept("j")}
    FROM judged j
    WHERE j.given IS DISTINCT FROM ROW{_kept("j")}
      AND m.child_id = j.child_id AND m.team_ods = j.team_ods AND m.academic_year = j.academic_year
      AND m.programme = j.programme;
    RETURN NULL;
END
$$
"""


def _use(rule: str) -> None:
    op.execute(_refresh(rule))
    op.execute(_joined(rule))
    op.execute("SELECT clinic_status_refresh(ARRAY(SELECT DISTINCT child_id FROM clinic_memberships))")


def upgrade() -> None:
    _use("sent")


def downgrade() -> None:
    _use("exists")
