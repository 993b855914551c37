"""The set-based SQL over the local copies: a school's children as the clinic selection sees them, and
scheduled invitations with their activity entries.

The rules are the domain's, rendered from it: when a programme is done (`domain.programme_done`), what a
refusal is (the consent copy's status, `contracts.consent.ConsentStatus`).
"""

from __future__ import annotations

from sqlalchemy import text

from cohort.activity import SCHEDULED
from cohort.domain import DONE_OUTCOMES, DONE_REASONS, SEASONAL_PROGRAMMES
from cohort.sql_text import in_list, literal
from contracts.consent import ConsentStatus


def done(v: str, academic_year: str) -> str:
    """`domain.programme_done` of vaccination copy `v` for `academic_year` (an SQL expression)."""
    return (
        f"({v}.outcome IN ({in_list(DONE_OUTCOMES)}) OR {v}.reason IN ({in_list(DONE_REASONS)}))"
        f" AND ({v}.academic_year = {academic_year} OR {v}.programme NOT IN ({in_list(SEASONAL_PROGRAMMES)}))"
    )


CANDIDATES = text(
    f"""
    SELECT c.id, c.deceased, c.restricted, c.invalidated, c.archived, c.parents, c.year_group, c.date_of_birth,
           ARRAY(SELECT DISTINCT v.programme FROM vaccinations v
                 WHERE v.child_id = c.id AND {done("v", ":year")}) AS vaccinated,
           ARRAY(SELECT k.programme FROM consents k
                 WHERE k.child_id = c.id AND k.academic_year = :year
                   AND k.status = {literal(ConsentStatus.REFUSED)}) AS refused,
           ARRAY(SELECT m.programme FROM clinic_memberships m
                 WHERE m.child_id = c.id AND m.team_ods = :team AND m.academic_year = :year) AS member_of
    FROM children c
    WHERE c.team_ods = :team AND c.school_urn = :urn
    ORDER BY c.id
    """
)

# The invitations, and an activity entry for each (details as activity.shown reads them), in one statement.
KEEP_SCHEDULED = text(
    f"""
    WITH scheduled AS (
        SELECT id, child, team, string_to_array(programmes, ',') AS programmes, year, kind, due
        FROM unnest(CAST(:ids AS uuid[]), CAST(:children AS uuid[]), CAST(:teams AS varchar[]),
                    CAST(:programmes AS text[]), CAST(:years AS integer[]), CAST(:kinds AS varchar[]),
                    CAST(:due AS timestamptz[])) AS s(id, child, team, programmes, year, kind, due)
    ), kept AS (
        INSERT INTO invitations AS i (invitation_id, child_id, team_ods, programmes, academic_year, kind, due_at)
        SELECT id, child, team, programmes, year, kind, due FROM scheduled
        ON CONFLICT (invitation_id) DO UPDATE SET
            programmes = excluded.programmes, academic_year = excluded.academic_year, kind = excluded.kind,
            due_at = excluded.due_at
    )
    INSERT INTO activity_log (child_id, source_key, occurred_at, kind, details)
    SELECT child, md5(CAST(:message_id AS text) || ':' || id)::uuid, CAST(:at AS timestamptz), {literal(SCHEDULED)},
           jsonb_build_object('invitation_id', id, 'programmes', to_jsonb(programmes), 'kind', kind, 'due_at', due)
    FROM scheduled
    ON CONFLICT DO NOTHING
    """
)
