"""The set-based SQL that checks a staged import and finds each row's child, before anything is applied.

Each statement is a rule of `cohort.import_rules` (tests run them against their Python twins) written so
that its only good plan is the one it gets whatever the statistics say: windows over the import's own
rows, hash joins (the repository runs the matching with nested loops off), and lookups by primary key.
"""

from __future__ import annotations

from sqlalchemy import text

from cohort.import_rules import MatchedOn, RowOutcome
from cohort.sql_text import literal

# The import's programmes with the year groups and birth dates they are for (import_repository.plan_params):
# a row `r` is for programme `p` by the file's year group when it gives one, else by date of birth.
PLAN_PROGRAMMES = """unnest(CAST(:programmes AS varchar[]), CAST(:first_born AS date[]), CAST(:last_born AS date[]),
              CAST(:lowest AS integer[]), CAST(:highest AS integer[]))
       AS p(programme, first_born, last_born, lowest, highest)"""
FOR_PROGRAMME = """CASE WHEN r.year_group IS NULL THEN r.date_of_birth BETWEEN p.first_born AND p.last_born
            ELSE r.year_group BETWEEN p.lowest AND p.highest END"""

# import_rules.row_programmes is empty: the row's child is in no year group the import is for.
OUTSIDE_YEAR_GROUPS = text(
    f"""
    SELECT r.row_number, r.year_group IS NOT NULL AS by_year_group FROM import_rows r
    WHERE r.import_id = :id AND NOT EXISTS (SELECT 1 FROM {PLAN_PROGRAMMES} WHERE {FOR_PROGRAMME})
    ORDER BY r.row_number
    """
)
# import_rules.repeated_nhs_numbers.
REPEATED_NHS_NUMBERS = text(
    """
    SELECT row_number FROM (
        SELECT row_number, count(*) OVER (PARTITION BY nhs_number) AS rows_with_it
        FROM import_rows WHERE import_id = :id AND nhs_number IS NOT NULL) numbered
    WHERE rows_with_it > 1 ORDER BY row_number
    """
)
MATCH_BY_NHS_NUMBER = text(
    f"""
    UPDATE import_rows r SET child_id = c.id, matched_on = {literal(MatchedOn.NHS_NUMBER)} FROM children c
    WHERE r.import_id = :id AND r.child_id IS NULL AND r.nhs_number IS NOT NULL
      AND c.team_ods = :team AND c.nhs_number = r.nhs_number
    """
)
# import_rules.candidates: the pairs agreeing on three of the four details are the union of four equi-joins
# (each a hash join), then each row keeps its one candidate, or its one exact candidate among several.
# Rows left with several are returned (an error each); rows with none stay new. "Not both numbered" is
# two joins per rule, so that each side is filtered before it is joined: a file and a team whose every
# child is numbered (a re-import) join nothing, however alike their names, birthdays and postcodes.
_SAME = (
    "r.f = c.f AND r.l = c.l AND r.d = c.d",
    "r.f = c.f AND r.l = c.l AND r.p = c.p",
    "r.f = c.f AND r.d = c.d AND r.p = c.p",
    "r.l = c.l AND r.d = c.d AND r.p = c.p",
)
_NOT_BOTH_NUMBERED = ("r_unnumbered r JOIN c", "r JOIN c_unnumbered c")
_PAIRS = "\n        UNION\n".join(
    f"""        SELECT r.row_number, c.id, (r.f = c.f AND r.l = c.l AND r.d = c.d AND r.p = c.p) AS exact
        FROM {sides} ON {on}"""
    for on in _SAME
    for sides in _NOT_BOTH_NUMBERED
)
MATCH_BY_DETAILS = text(
    f"""
    WITH r AS MATERIALIZED (
        SELECT row_number, nhs_number, lower(first_name) AS f, lower(last_name) AS l, date_of_birth AS d,
               postcode AS p
        FROM import_rows WHERE import_id = :id AND child_id IS NULL
    ), r_unnumbered AS MATERIALIZED (
        SELECT * FROM r WHERE nhs_number IS NULL
    ), c AS MATERIALIZED (
        SELECT id, nhs_number, lower(first_name) AS f, lower(last_name) AS l, date_of_birth AS d, postcode AS p
        FROM children WHERE team_ods = :team
    ), c_unnumbered AS MATERIALIZED (
        SELECT * FROM c WHERE nhs_number IS NULL
    ), pairs AS (
{_PAIRS}
    ), chosen AS (
        SELECT row_number, CASE WHEN count(*) = 1 THEN (array_agg(id))[1]
                                WHEN count(*) FILTER (WHERE exact) = 1 THEN (array_agg(id) FILTER (WHERE exact))[1]
                           END AS child_id
        FROM pairs GROUP BY row_number
    ), matched AS (
        UPDATE import_rows u SET child_id = chosen.child_id, matched_on = {literal(MatchedOn.DETAILS)}
        FROM chosen WHERE u.import_id = :id AND u.row_number = chosen.row_number AND chosen.child_id IS NOT NULL
    )
    SELECT row_number FROM chosen WHERE child_id IS NULL ORDER BY row_number
    """
)
# import_rules.same_children, as windows over the import's rows (n log n): a row lacking an NHS number is
# its partition's first row's twin, a numbered row the first row lacking one; rows matched to one child
# name the first other row of their partition. Each row keeps its earliest.
DUPLICATES = text(
    """
    SELECT row_number, min(first_row) AS first_row FROM (
        SELECT row_number, first_row FROM (
            SELECT row_number, CASE WHEN nhs_number IS NULL THEN min(row_number) OVER same_details
                                    ELSE min(row_number) FILTER (WHERE nhs_number IS NULL) OVER same_details
                               END AS first_row
            FROM import_rows WHERE import_id = :id
            WINDOW same_details AS (PARTITION BY lower(first_name), lower(last_name), date_of_birth, postcode)
        ) same_details
        WHERE first_row < row_number
        UNION ALL
        SELECT row_number, CASE WHEN row_number = first_two[1] THEN first_two[2] ELSE first_two[1] END FROM (
            SELECT row_number, (array_agg(row_number) OVER same_child)[1:2] AS first_two
            FROM import_rows WHERE import_id = :id AND child_id IS NOT NULL
            WINDOW same_child AS (PARTITION BY child_id ORDER BY row_number
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        ) same_match
        WHERE cardinality(first_two) = 2
    ) found
    GROUP BY row_number ORDER BY row_number
    """
)
# import_rules.row_outcome, each row's child looked up by its primary key. New children take the ids made
# when their rows were staged, so a retried commit creates the same children.
_DIFFERENT_CHILD = """lower(c.first_name) <> lower(r.first_name) OR lower(c.last_name) <> lower(r.last_name)
                   OR c.date_of_birth <> r.date_of_birth OR c.postcode <> r.postcode OR c.school_urn <> r.school_urn"""
_SAME_ROW = """c.first_name = r.first_name AND c.last_name = r.last_name
                   AND c.year_group IS NOT DISTINCT FROM r.year_group AND c.parents = r.parents
                   AND (r.nhs_number IS NULL OR c.nhs_number = r.nhs_number)"""
CLASSIFY = text(
    f"""
    UPDATE import_rows r SET child_id = coalesce(r.child_id, r.new_child_id), outcome = coalesce((
        SELECT CASE WHEN {_DIFFERENT_CHILD} THEN {literal(RowOutcome.REVIEW)}
                    WHEN {_SAME_ROW} THEN {literal(RowOutcome.UNCHANGED)}
                    ELSE {literal(RowOutcome.UPDATED)} END
        FROM children c WHERE c.id = r.child_id), {literal(RowOutcome.CREATED)})
    WHERE r.import_id = :id AND r.outcome IS NULL
    """
)
_HELD = "nhs_number, first_name, last_name, date_of_birth, postcode, school_urn, year_group, parents, new_child_id"
HOLD_FOR_REVIEW = text(
    f"""
    INSERT INTO import_reviews (import_id, row_number, team_ods, child_id, matched_on, {_HELD})
    SELECT import_id, row_number, :team, child_id, matched_on, {_HELD}
    FROM import_rows WHERE import_id = :id AND outcome = {literal(RowOutcome.REVIEW)}
    ON CONFLICT DO NOTHING
    """
)
