"""Cohort's tables as the national seed (bench.scale_seed) writes them: COPY in batches, each child's activity
derived in the server, and the keys and indexes dropped while the rows go in and rebuilt after (as a restore)."""

from __future__ import annotations

from typing import Any

import asyncpg

SCHEMA = "cohort"
TABLES = (
    "children",
    "clinic_memberships",
    "consents",
    "vaccinations",
    "invitations",
    "activity_log",
    "school_sessions",
)
BATCH = 50_000  # rows a table's buffer holds before it is copied in
COLUMNS: dict[str, list[str]] = {
    "children": ["id", "team_ods", "nhs_number", "first_name", "last_name", "date_of_birth", "postcode",
                 "school_urn", "year_group", "parents", "deceased", "restricted", "invalidated", "archived"],
    "clinic_memberships": ["child_id", "team_ods", "academic_year", "programme", "joined_on", "reason", "invited",
                           "consent_status", "vaccinated", "last_name", "first_name"],
    "consents": ["child_id", "programme", "academic_year", "status", "recorded_at"],
    "vaccinations": ["record_id", "child_id", "programme", "academic_year", "outcome", "reason", "performed_at"],
    "invitations": ["invitation_id", "child_id", "team_ods", "programmes", "academic_year", "kind", "due_at", "sent"],
    "school_sessions": ["session_id", "team_ods", "school_urn", "programmes", "academic_year", "dates", "changed_at"],
}  # fmt: skip


class Rows:
    """Row buffers, one per table, flushed with COPY when full."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.buffers: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COLUMNS}
        self.counts: dict[str, int] = dict.fromkeys(COLUMNS, 0)

    async def add(self, table: str, row: tuple[Any, ...]) -> None:
        buffer = self.buffers[table]
        buffer.append(row)
        if len(buffer) >= BATCH:
            await self.flush(table)

    async def flush(self, table: str | None = None) -> None:
        for name in [table] if table else list(self.buffers):
            buffer = self.buffers[name]
            if buffer:
                await self.conn.copy_records_to_table(name, records=buffer, columns=COLUMNS[name], schema_name=SCHEMA)
                self.counts[name] += len(buffer)
                self.buffers[name] = []


# Each child's activity, derived from the rows above in the server: what the events would have logged.
_INSERT = "INSERT INTO activity_log (child_id, source_key, occurred_at, kind, details) "
ACTIVITY = (
    _INSERT
    + """SELECT id, gen_random_uuid(), $1, 'consent_requested',
                 jsonb_build_object('programmes', '["flu"]'::jsonb, 'requested_by', $2::text) FROM children""",
    _INSERT
    + """SELECT child_id, gen_random_uuid(), recorded_at, 'consent_recorded',
                 jsonb_build_object('programme', programme, 'response', status, 'route', 'website', 'status', status,
                                    'recorded_by', 'parent') FROM consents""",
    _INSERT
    + """SELECT child_id, gen_random_uuid(), performed_at, 'vaccination_recorded',
                 jsonb_build_object('programme', programme, 'outcome', outcome, 'reason', reason,
                                    'session_id', gen_random_uuid(), 'recorded_by', $1::text) FROM vaccinations""",
    _INSERT
    + """SELECT child_id, gen_random_uuid(), joined_on + time '09:00', 'joined_clinic_cohort',
                 jsonb_build_object('programmes', to_jsonb(ARRAY[programme]), 'reason', reason,
                                    'academic_year', academic_year, 'joined_on', joined_on) FROM clinic_memberships""",
    _INSERT
    + """SELECT child_id, gen_random_uuid(), due_at - interval '14 days', 'invitation_scheduled',
                 jsonb_build_object('invitation_id', invitation_id, 'programmes', to_jsonb(programmes), 'kind', kind,
                                    'due_at', due_at) FROM invitations""",
    _INSERT
    + """SELECT child_id, gen_random_uuid(), due_at, 'notification_sent',
                 jsonb_build_object('notification_id', gen_random_uuid(), 'message', 'clinic_initial_invitation',
                                    'channel', channel, 'recipient', CASE channel WHEN 'email'
                                    THEN 'p***@example.com' ELSE '07***' END)
                 FROM invitations CROSS JOIN (VALUES ('email'), ('sms')) AS c(channel) WHERE sent""",
)


async def constraints_and_indexes(conn: asyncpg.Connection) -> tuple[list[str], list[str], list[str]]:
    """Statements to drop and to rebuild the seeded tables' primary keys and secondary indexes."""
    keys = await conn.fetch(
        """SELECT c.conrelid::regclass::text AS tab, c.conname, pg_get_constraintdef(c.oid) AS def
           FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
           WHERE n.nspname = $1 AND c.contype = 'p' AND c.conrelid::regclass::text = ANY($2)""",
        SCHEMA,
        [f"{SCHEMA}.{t}" for t in TABLES],
    )
    indexes = await conn.fetch(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.schemaname = $1 AND i.tablename = ANY($2) AND NOT EXISTS (
               SELECT 1 FROM pg_constraint c WHERE c.conindid = (i.schemaname || '.' || i.indexname)::regclass)""",
        SCHEMA,
        list(TABLES),
    )
    drops = [f'DROP INDEX {SCHEMA}."{i["indexname"]}"' for i in indexes]
    drops += [f'ALTER TABLE {k["tab"]} DROP CONSTRAINT "{k["conname"]}"' for k in keys]
    adds = [f'ALTER TABLE {k["tab"]} ADD CONSTRAINT "{k["conname"]}" {k["def"]}' for k in keys]
    return drops, adds, [i["indexdef"] for i in indexes]
