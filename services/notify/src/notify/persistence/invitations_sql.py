"""The set-wise SQL of invitations (`invitations.py`): the ledger, bulk writes, re-timing, settling.

Status guards are rendered from the domain's vocabulary (`notify.domain.invitations`), never typed out here;
`tests/integration/test_sql_rules.py` runs each against its Python twin.
"""

from __future__ import annotations

from sqlalchemy import text

from notify.domain.invitations import NOT_YET_SENT as NOT_YET_SENT_STATUSES
from notify.domain.invitations import UNSENT, InvitationStatus
from notify.domain.notifications import ACCEPTED, OPEN, NotificationStatus
from notify.persistence.sql import among, literal

_UNSENT = among("i.status", UNSENT)
_SENDING, _SENT = literal(InvitationStatus.SENDING), literal(InvitationStatus.SENT)
_CANCELLED, _FAILED = literal(InvitationStatus.CANCELLED), literal(InvitationStatus.FAILED)

# Ledger rows for every requested programme, in one statement; what conflicts was invited before.
CLAIM_LEDGER = """
    WITH claimed AS (
        INSERT INTO invitation_ledger (child_id, team_ods, academic_year, programme, invitation_id)
        SELECT u.child_id, u.team_ods, u.academic_year, p.programme, u.id
        FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::integer[], $5::text[])
             AS u(id, child_id, team_ods, academic_year, programmes)
        CROSS JOIN LATERAL unnest(string_to_array(u.programmes, ',')) AS p(programme)
        ON CONFLICT DO NOTHING
        RETURNING invitation_id, programme
    )
    SELECT invitation_id::text, string_agg(programme, ',') FROM claimed GROUP BY invitation_id
"""

# Staff repeats of a child wait for each other here (rows every programme of theirs has once the ledger
# is claimed: claiming waits for a concurrent claim of the same programme to commit), in key order.
LOCK_LEDGER = """
    SELECT 1 FROM invitation_ledger l
    JOIN unnest($1::uuid[], $2::text[], $3::integer[]) AS u(child_id, team_ods, academic_year)
      USING (child_id, team_ods, academic_year)
    ORDER BY l.child_id, l.team_ods, l.academic_year, l.programme
    FOR UPDATE OF l
"""

NOT_YET_SENT = f"""
    SELECT i.child_id::text, i.team_ods, i.academic_year, p.programme
    FROM invitations i
    JOIN unnest($1::uuid[], $2::text[], $3::integer[]) AS u(child_id, team_ods, academic_year)
      USING (child_id, team_ods, academic_year)
    CROSS JOIN LATERAL unnest(i.programmes) AS p(programme)
    WHERE {among("i.status", NOT_YET_SENT_STATUSES)}
"""

ADD_INVITATIONS = """
    INSERT INTO invitations (id, child_id, team_ods, academic_year, programmes, kind, trigger, reason,
                             requested_by, requested_at, status, due_at, updated_at)
    SELECT u.id, u.child_id, u.team_ods, u.academic_year, string_to_array(u.programmes, ','), u.kind, u.trigger,
           u.reason, u.requested_by, u.requested_at, u.status, u.due_at, $13
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::integer[], $5::text[], $6::text[], $7::text[], $8::text[],
                $9::text[], $10::timestamptz[], $11::text[], $12::timestamptz[])
         AS u(id, child_id, team_ods, academic_year, programmes, kind, trigger, reason, requested_by,
              requested_at, status, due_at)
"""


# One retime of a team at a time, whichever replica and message (TeamUpdated, ClinicDatesChanged): two
# set-wise updates of the same rows in different orders could otherwise deadlock each other.
RETIME_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended('notify.retime:' || CAST(:team AS text), 0))")
# Shared by transactions that time new invitations from a team's dates: a re-timing waits for them to
# commit (and then re-times what they added), and they wait for a re-timing to commit (and then read its
# dates), so no invitation keeps a due time from dates a concurrent re-timing replaced.
TIMING_LOCK = text(
    "SELECT pg_advisory_xact_lock_shared(hashtextextended('notify.retime:' || t, 0))"
    " FROM unnest(CAST(:teams AS text[])) WITH ORDINALITY AS u(t, n) ORDER BY n"
)

# Everything a due time depends on besides the team's settings and clinic dates, as one text: a
# 100,000-child import is a few hundred requests, so its re-timing is a few hundred due times to work out.
_KEY = (
    "CAST(i.academic_year AS text) || '|' || array_to_string(i.programmes, ',') || '|' || i.trigger || '|'"
    " || CAST(CAST(extract(epoch FROM i.requested_at) * 1000000 AS bigint) AS text)"
)
UNSENT_KEYS = f"""
    SELECT DISTINCT {_KEY} AS key, i.academic_year, array_to_string(i.programmes, ',') AS programmes, i.trigger,
           i.requested_at
    FROM invitations AS i
    WHERE i.team_ods = :team AND {_UNSENT} {{year}}
"""

# The new due time of every unsent invitation of the team in one statement: each row's key is looked up
# in a JSON object of [status, due time, due time as the event writes it]. A lookup, not a join on the
# keys: a team imported a moment ago has no statistics yet, and the nested loop over keys x rows the
# planner then chose took 10 s at 100,000. PostgreSQL also builds the InvitationsScheduled items of the
# rows that changed, a thousand to an event (each follows ScheduledInvitation field for field).
# A plain UPDATE, not SKIP LOCKED: a row a dispatcher has claimed is waited for and its WHERE re-checked
# once that commits, so a row expanded meanwhile (now `sending`) is left alone and one whose claim rolled
# back is still re-timed.
RETIME_TEAM = f"""
    WITH wanted AS MATERIALIZED (
        SELECT i.id, CAST(:due AS jsonb) -> ({_KEY}) AS v
        FROM invitations AS i
        WHERE i.team_ods = :team AND {_UNSENT} {{year}}
    ), timed AS MATERIALIZED (
        SELECT id, v ->> 0 AS status, CAST(v ->> 1 AS timestamptz) AS due_at, v ->> 2 AS due_json
        FROM wanted WHERE v IS NOT NULL
    ), changed AS (
        UPDATE invitations AS i SET status = t.status, due_at = t.due_at, updated_at = :now
        FROM timed AS t
        WHERE i.id = t.id AND {_UNSENT}
          AND (i.status, i.due_at) IS DISTINCT FROM (t.status, t.due_at)
        RETURNING i.id, i.child_id, i.team_ods, i.programmes, i.academic_year, i.kind, i.due_at, t.due_json
    ), numbered AS (
        SELECT c.*, (row_number() OVER () - 1) / :per_event AS chunk FROM changed AS c
    )
    SELECT count(*) AS changed, COALESCE(bool_or(due_at <= :now), false) AS due_now,
           CAST(json_agg(json_build_object(
               'invitation_id', id, 'child_id', child_id, 'team_ods', team_ods, 'programmes', programmes,
               'academic_year', academic_year, 'kind', kind, 'due_at', due_json)) AS text) AS items
    FROM numbered GROUP BY chunk
"""


CANCEL = text(
    f"""
    UPDATE invitations AS i SET status = {_CANCELLED}, cancel_reason = u.reason, updated_at = :now
    FROM unnest(CAST(:ids AS uuid[]), CAST(:reasons AS text[])) AS u(id, reason)
    WHERE i.id = u.id
    """
)

# Sent once any of its messages is accepted. Once none is left that could be: cancelled (with the reason of
# its first cancelled message) if any was cancelled, since its purpose is gone; else failed.
SETTLE = text(
    f"""
    WITH outcome AS (
        SELECT i.id,
               COALESCE(bool_or({among("n.status", ACCEPTED)}), false) AS sent,
               COALESCE(bool_or({among("n.status", OPEN)}), false) AS open,
               (array_agg(n.cancel_reason ORDER BY n.completed_at)
                FILTER (WHERE n.status = {literal(NotificationStatus.CANCELLED)}))[1] AS reason
        FROM invitations AS i LEFT JOIN notifications AS n ON n.invitation_id = i.id
        WHERE i.id = ANY(CAST(:ids AS uuid[])) AND i.status = {_SENDING}
        GROUP BY i.id
    )
    UPDATE invitations AS i
    SET status = CASE WHEN o.sent THEN {_SENT} WHEN o.reason IS NOT NULL THEN {_CANCELLED} ELSE {_FAILED} END,
        cancel_reason = CASE WHEN NOT o.sent THEN o.reason END,
        updated_at = :now
    FROM outcome AS o
    WHERE i.id = o.id AND i.status = {_SENDING} AND (o.sent OR NOT o.open)
    RETURNING i.*
    """
)
