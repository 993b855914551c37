"""The hand-written migrations build exactly the schema tables.py describes, with one head."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from msgkit.db import create_engine
from msgkit.migrations import alembic_config, upgrade
from notify.migrate import MIGRATIONS
from notify.persistence.tables import metadata

pytestmark = pytest.mark.integration


def test_one_head_and_numbered_revisions() -> None:
    scripts = ScriptDirectory.from_config(alembic_config(MIGRATIONS, url="", schema="notify"))
    assert scripts.get_heads() == ["0004"]
    assert sorted(p.name[:4] for p in (MIGRATIONS / "versions").glob("0*.py")) == ["0001", "0002", "0003", "0004"]


async def test_outbox_bodies_are_compressed_with_lz4(engine: AsyncEngine) -> None:
    compression = """
        SELECT attcompression::text FROM pg_attribute
        WHERE attrelid = 'outbox_messages'::regclass AND attname = 'body'
    """
    async with engine.connect() as conn:
        assert (await conn.execute(text(compression))).scalar_one() == "l"  # lz4 (this server has it)


async def test_migrated_schema_matches_the_tables(engine: AsyncEngine) -> None:
    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert [d for d in differences if not (isinstance(d, tuple) and d[0] == "remove_table")] == []


_INVITATION = """
    INSERT INTO invitations (id, child_id, team_ods, academic_year, programmes, kind, trigger, reason, requested_at,
                             status, updated_at)
    VALUES (:id, :child, 'RYG', 2023, '{flu,hpv}', 'initial', 'automatic', 'unknown_school', now(), 'sending', now())
"""
_NOTIFICATION = """
    INSERT INTO notifications (id, invitation_id, child_id, team_ods, kind, channel, "to", template_id,
                               personalisation, reference, status, next_attempt_at, created_at)
    VALUES (CAST(:id AS uuid), :invitation, :child, 'RYG', :kind, 'email', 'p@example.com', 't',
            CAST(:personalisation AS jsonb), CAST(:id AS text), :status, now(), :created)
"""


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def test_unfinished_notifications_get_their_programmes_and_year_from_0002(database_url: str) -> None:
    schema = f"notify_backfill_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(upgrade, MIGRATIONS, url=database_url, schema=schema, revision="0001")
    engine = create_engine(database_url, schema=schema, pool_size=1)
    child, invitation = uuid.uuid4(), uuid.uuid4()
    request = "consent_clinic_request"
    rows = {  # name: (invitation, kind, programmes as worded, status, created)
        "invited": (invitation, "clinic_initial_invitation", "HPV and flu", "pending", utc(2025, 3, 1)),
        "request": (None, request, "Td/IPV, MenACWY and flu", "sending", utc(2025, 9, 1)),
        "summer": (None, request, "MMR", "pending", utc(2025, 8, 31, 23, 30)),
        "finished": (None, request, "flu", "delivered", utc(2025, 10, 1)),
    }
    ids = {name: uuid.uuid4() for name in rows}
    try:
        async with engine.begin() as conn:
            await conn.execute(text(_INVITATION), {"id": invitation, "child": child})
            for name, (invited, kind, programmes, status, created) in rows.items():
                personalisation = json.dumps({"programmes": programmes, "child_first_name": "Ada"})
                await conn.execute(
                    text(_NOTIFICATION),
                    {"id": str(ids[name]), "invitation": invited, "child": child, "kind": kind, "status": status,
                     "personalisation": personalisation, "created": created},
                )  # fmt: skip
        await asyncio.to_thread(upgrade, MIGRATIONS, url=database_url, schema=schema)
        async with engine.connect() as conn:
            found = {r.id: r for r in (await conn.execute(text("SELECT * FROM notifications"))).all()}
        backfilled = {name: (found[i].programmes, found[i].academic_year) for name, i in ids.items()}
        assert backfilled == {
            "invited": (["hpv", "flu"], 2023),  # the invitation's year, not the day it was made (2024)
            "request": (["td_ipv", "menacwy", "flu"], 2025),
            "summer": (["mmr"], 2025),  # 00:30 on 1 September in England: the new academic year
            "finished": (None, None),  # never judged again
        }
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await engine.dispose()
