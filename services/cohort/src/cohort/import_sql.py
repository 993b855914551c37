"""The set-based SQL of cohort imports: applying checked and classified rows in batches (import_match_sql
checks and classifies them).

Every rule here is the domain's, rendered from it (`cohort.domain`, `cohort.import_rules`): the clinic
URNs and their join reasons, who never joins, the row outcomes. The message items the database builds
(`*_ITEM`) have exactly their contract model's fields; tests run each statement against its Python twin.
"""

from __future__ import annotations

from sqlalchemy import text

from cohort.activity import JOINED
from cohort.domain import NEVER_JOIN, SCHOOL_JOIN_REASONS, InvitationKind, Trigger
from cohort.import_match_sql import FOR_PROGRAMME, PLAN_PROGRAMMES
from cohort.import_rules import RowOutcome
from cohort.sql_text import case_of, in_list, json_object, literal, none_of

# Which rows join the clinic cohort by their school, and why (domain.reason_for_school), over rows `r`.
JOINS_BY_SCHOOL = f"r.school_urn IN ({in_list(SCHOOL_JOIN_REASONS)})"
JOIN_REASON = case_of("r.school_urn", SCHOOL_JOIN_REASONS)
# Rows that change their child (import_rules.is_applied), and import_rules.is_applied, over rows `r`.
CHANGES = f"r.outcome IN ({in_list([RowOutcome.CREATED, RowOutcome.UPDATED])})"
APPLIED = f"({CHANGES} OR (r.outcome = {literal(RowOutcome.UNCHANGED)} AND {JOINS_BY_SCHOOL}))"
# domain.ChildFlags.may_join over children `c`.
MAY_JOIN = none_of("c", NEVER_JOIN)

NEXT_BATCH = text(
    f"""
    SELECT min(row_number) AS lo, max(row_number) AS hi FROM (
        SELECT row_number FROM import_rows r
        WHERE import_id = :id AND row_number > :after AND {APPLIED}
        ORDER BY row_number LIMIT :size) b
    """
)
IN_BATCH = "r.import_id = :id AND r.row_number BETWEEN :lo AND :hi"

# ChildrenUpserted's items (contracts.cohort.ChildSnapshot), over the children `c` written.
SNAPSHOT_ITEM = {
    "child_id": "c.id",
    "team_ods": "c.team_ods",
    "nhs_number": "c.nhs_number",
    "first_name": "c.first_name",
    "last_name": "c.last_name",
    "date_of_birth": "c.date_of_birth",
    "school_urn": "c.school_urn",
    "postcode": "NULLIF(c.postcode, '')",
    "deceased": "c.deceased",
    "restricted": "c.restricted",
    "invalidated": "c.invalidated",
    "archived": "c.archived",
    "parents": "c.parents",
}
UPSERT_CHILDREN = text(
    f"""
    INSERT INTO children AS c (id, team_ods, nhs_number, first_name, last_name, date_of_birth, postcode,
                               school_urn, year_group, parents)
    SELECT r.child_id, :team, r.nhs_number, r.first_name, r.last_name, r.date_of_birth, r.postcode,
           r.school_urn, r.year_group, r.parents
    FROM import_rows r WHERE {IN_BATCH} AND {CHANGES}
    ON CONFLICT (id) DO UPDATE SET
        nhs_number = coalesce(excluded.nhs_number, c.nhs_number), first_name = excluded.first_name,
        last_name = excluded.last_name, date_of_birth = excluded.date_of_birth, postcode = excluded.postcode,
        school_urn = excluded.school_urn, year_group = excluded.year_group, parents = excluded.parents,
        updated_at = now()
    RETURNING {json_object(SNAPSHOT_ITEM)}::text
    """
)

# ChildrenJoinedClinicCohort's items (contracts.cohort.CohortJoin), over `children_joined` below.
JOIN_ITEM = {
    "child_id": "child_id",
    "team_ods": "CAST(:team AS varchar)",
    "programmes": "programmes",
    "academic_year": "CAST(:year AS integer)",
    "joined_on": "CAST(:today AS date)",
    "reason": "reason",
}
# InviteToClinic's items (contracts.cohort.InvitationRequest): an automatic, initial invitation per join.
INVITATION_ITEM = {
    "child_id": "child_id",
    "team_ods": "CAST(:team AS varchar)",
    "programmes": "programmes",
    "academic_year": "CAST(:year AS integer)",
    "trigger": literal(Trigger.AUTOMATIC),
    "kind": literal(InvitationKind.INITIAL),
    "reason": "reason",
    "requested_by": "NULL",
}
# The activity entry of a join, as activity.joined writes it.
JOINED_DETAILS = {
    "programmes": "programmes",
    "reason": "reason",
    "academic_year": "CAST(:year AS integer)",
    "joined_on": "CAST(:today AS date)",
}
# Children of the clinic URNs join for the import's programmes their year group is in (existing memberships
# are skipped; rows held for review join nobody until decided; the names
# go in with them, so the membership trigger of migration 0004 need not rewrite the row), their activity
# entries are written, and the joins come back as the JSON arrays of the outgoing messages' items: one
# round trip and no per-child Python per batch.
JOIN = text(
    f"""
    WITH joined AS (
        INSERT INTO clinic_memberships (child_id, team_ods, academic_year, programme, joined_on, reason, last_name,
                                        first_name)
        SELECT r.child_id, :team, :year, p.programme, :today, {JOIN_REASON}, c.last_name, c.first_name
        FROM import_rows r JOIN children c ON c.id = r.child_id JOIN {PLAN_PROGRAMMES} ON {FOR_PROGRAMME}
        WHERE {IN_BATCH} AND {APPLIED} AND {JOINS_BY_SCHOOL} AND {MAY_JOIN}
        ON CONFLICT DO NOTHING
        RETURNING child_id, programme, reason
    ), children_joined AS (
        SELECT child_id, array_agg(programme ORDER BY programme) AS programmes, min(reason) AS reason
        FROM joined GROUP BY child_id
    ), logged AS (
        INSERT INTO activity_log (child_id, occurred_at, kind, details, source_key)
        SELECT child_id, CAST(:at AS timestamptz), {literal(JOINED)},
               {json_object(JOINED_DETAILS, "jsonb_build_object")}, md5(CAST(:id AS text) || ':join:' || child_id)::uuid
        FROM children_joined
        ON CONFLICT DO NOTHING
    )
    SELECT count(*) AS joined,
           json_agg({json_object(JOIN_ITEM)})::text AS joins,
           json_agg({json_object(INVITATION_ITEM)})::text AS invitations
    FROM children_joined
    """
)
