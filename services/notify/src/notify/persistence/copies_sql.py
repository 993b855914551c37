"""The set-wise SQL of notify's local copies (`copies.py`): children upserted and leavers forgotten in bulk."""

from __future__ import annotations

from sqlalchemy import text

UPSERT_CHILDREN = text(
    """
    INSERT INTO children AS c (child_id, team_ods, first_name, last_name, deceased, restricted, invalidated,
                               archived, parents, updated_at)
    SELECT u.child_id, u.team_ods, u.first_name, u.last_name, u.deceased, u.restricted, u.invalidated,
           u.archived, CAST(u.parents AS jsonb), :at
    FROM unnest(CAST(:ids AS uuid[]), CAST(:teams AS text[]), CAST(:first AS text[]), CAST(:last AS text[]),
                CAST(:deceased AS boolean[]), CAST(:restricted AS boolean[]), CAST(:invalidated AS boolean[]),
                CAST(:archived AS boolean[]), CAST(:parents AS text[]))
         AS u(child_id, team_ods, first_name, last_name, deceased, restricted, invalidated, archived, parents)
    ON CONFLICT (child_id) DO UPDATE SET
        team_ods = excluded.team_ods, first_name = excluded.first_name, last_name = excluded.last_name,
        deceased = excluded.deceased, restricted = excluded.restricted, invalidated = excluded.invalidated,
        archived = excluded.archived, parents = excluded.parents, updated_at = excluded.updated_at
    WHERE c.updated_at <= excluded.updated_at
    """
)


FORGET_LEAVERS = text(
    """
    DELETE FROM cohort_leavers AS l
    USING unnest(CAST(:children AS uuid[]), CAST(:teams AS text[]), CAST(:years AS integer[]))
          AS u(child_id, team_ods, academic_year)
    WHERE l.child_id = u.child_id AND l.team_ods = u.team_ods AND l.academic_year = u.academic_year
      AND l.removed_at < :before
    """
)
