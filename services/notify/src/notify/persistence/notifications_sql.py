"""The set-wise SQL of notifications (`notifications.py`): bulk inserts and the moves of many at once.

Each status guard is rendered from the domain's move it enforces (`notify.domain.notifications`), never typed
out here; `tests/integration/test_sql_rules.py` runs each against its Python twin.
"""

from __future__ import annotations

from sqlalchemy import text

from notify.domain.notifications import CANCEL, CLAIM, FAIL, RETRY, SEND, NotificationStatus
from notify.persistence.sql import among, literal

# The statuses of the single-status moves the repository's ORM statements make (compared with `=`).
[CLAIMABLE], [CLAIMED] = (str(s) for s in CLAIM.sources), (str(s) for s in CLAIM.targets)
[INTERRUPTED], [RETRIED] = (str(s) for s in RETRY.sources), (str(s) for s in RETRY.targets)

_PENDING, _SENDING = literal(NotificationStatus.PENDING), literal(NotificationStatus.SENDING)
_SENT, _CANCELLED = literal(NotificationStatus.SENT), literal(NotificationStatus.CANCELLED)

INSERT = text(
    f"""
    INSERT INTO notifications (id, reference, invitation_id, child_id, parent_id, team_ods, kind, channel, "to",
                               template_id, personalisation, reply_to_id, window_start, window_end, programmes,
                               academic_year, status, attempts, next_attempt_at, attempt_started_at)
    SELECT u.id, u.reference, u.invitation_id, u.child_id, u.parent_id, u.team_ods, u.kind, u.channel, u.recipient,
           u.template_id, CAST(u.personalisation AS jsonb), u.reply_to_id, u.window_start, u.window_end,
           string_to_array(u.programmes, ','), u.academic_year,
           u.status, u.attempts, u.next_attempt_at,
           CASE WHEN u.status = {_SENDING} THEN CAST(:now AS timestamptz) END
    FROM unnest(CAST(:ids AS uuid[]), CAST(:references AS text[]), CAST(:invitations AS uuid[]),
                CAST(:children AS uuid[]), CAST(:parents AS uuid[]), CAST(:teams AS text[]), CAST(:kinds AS text[]),
                CAST(:channels AS text[]), CAST(:recipients AS text[]), CAST(:templates AS text[]),
                CAST(:personalisation AS text[]), CAST(:reply_to AS text[]), CAST(:window_start AS time[]),
                CAST(:window_end AS time[]), CAST(:programmes AS text[]), CAST(:years AS integer[]),
                CAST(:next_attempt_at AS timestamptz[]), CAST(:statuses AS text[]), CAST(:attempts AS integer[]))
         AS u(id, reference, invitation_id, child_id, parent_id, team_ods, kind, channel, recipient, template_id,
              personalisation, reply_to_id, window_start, window_end, programmes, academic_year, next_attempt_at,
              status, attempts)
    """
)

_RETURNING = 'RETURNING n.id, n.invitation_id, n.child_id, n.parent_id, n.team_ods, n.kind, n.channel, n."to"'

MARK_SENT = text(
    f"""
    UPDATE notifications AS n SET status = {_SENT}, provider_id = u.provider_id, sent_at = :now,
                                  needs_lookup = false, last_error = NULL
    FROM unnest(CAST(:ids AS uuid[]), CAST(:provider_ids AS text[])) AS u(id, provider_id)
    WHERE n.id = u.id AND {among("n.status", SEND.sources)}
    {_RETURNING}
    """
)

MARK_RETRY = text(
    f"""
    UPDATE notifications AS n SET status = {_PENDING}, next_attempt_at = u.next_at, needs_lookup = u.lookup,
                                  last_error = u.error
    FROM unnest(CAST(:ids AS uuid[]), CAST(:next_at AS timestamptz[]), CAST(:lookup AS boolean[]),
                CAST(:errors AS text[])) AS u(id, next_at, lookup, error)
    WHERE n.id = u.id AND {among("n.status", RETRY.sources)}
    """
)

# A receipt that overtook our own record of the send also stamps sent_at: the provider has the message.
MARK_DELIVERED = text(
    """
    UPDATE notifications AS n SET status = u.status, completed_at = :now, needs_lookup = false,
                                  provider_id = coalesce(u.provider_id, n.provider_id),
                                  sent_at = coalesce(n.sent_at, CAST(:now AS timestamptz))
    FROM unnest(CAST(:ids AS uuid[]), CAST(:statuses AS text[]), CAST(:provider_ids AS text[]))
         AS u(id, status, provider_id)
    WHERE n.id = u.id
    """
)

# Only a message the provider never had is cancelled: pending, or sending once a lookup found nothing.
MARK_CANCELLED = text(
    f"""
    UPDATE notifications AS n SET status = {_CANCELLED}, cancel_reason = u.reason, completed_at = :now,
                                  needs_lookup = false
    FROM unnest(CAST(:ids AS uuid[]), CAST(:reasons AS text[])) AS u(id, reason)
    WHERE n.id = u.id AND {among("n.status", CANCEL.sources)}
    {_RETURNING}
    """
)

# Only rows just claimed (still as they were claimed, not yet marked `sending`) are narrowed.
NARROW = text(
    f"""
    UPDATE notifications AS n SET programmes = string_to_array(u.programmes, ','),
                                  personalisation = CAST(u.personalisation AS jsonb)
    FROM unnest(CAST(:ids AS uuid[]), CAST(:programmes AS text[]), CAST(:personalisation AS text[]))
         AS u(id, programmes, personalisation)
    WHERE n.id = u.id AND {among("n.status", CLAIM.sources)}
    """
)

MARK_FAILED = text(
    f"""
    UPDATE notifications AS n SET status = u.status, last_error = u.error, completed_at = :now
    FROM unnest(CAST(:ids AS uuid[]), CAST(:statuses AS text[]), CAST(:errors AS text[])) AS u(id, status, error)
    WHERE n.id = u.id AND {among("n.status", FAIL.sources)}
    {_RETURNING}
    """
)
