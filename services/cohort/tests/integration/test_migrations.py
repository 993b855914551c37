"""Migrations 0004 and 0006: memberships get their statuses and names from what is there, and triggers keep them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from alembic import command
from alembic.script import ScriptDirectory

from cohort.migrate import MIGRATIONS
from msgkit.migrations import alembic_config, upgrade
from testkit import eventually

pytestmark = pytest.mark.integration

AT = datetime(2025, 10, 1, tzinfo=UTC)
_CHILD = """INSERT INTO children (id, team_ods, first_name, last_name, date_of_birth, postcode, school_urn)
            VALUES ($1, 'RYG', $2, $3, '2015-01-01', 'LS1 4AP', '888888')"""
_MEMBER = """INSERT INTO clinic_memberships (child_id, team_ods, academic_year, programme, joined_on, reason)
             VALUES ($1, 'RYG', $2, $3, '2025-10-01', 'unknown_school')"""
_CONSENT = "INSERT INTO consents VALUES ($1, $2, 2025, $3, $4)"
_VACCINATION = "INSERT INTO vaccinations VALUES ($1, $2, $3, $4, 'vaccinated', NULL, $5)"
_INVITATION = """INSERT INTO invitations (invitation_id, child_id, team_ods, programmes, academic_year, sent)
                 VALUES ($1, $2, 'RYG', $3, $4, $5)"""
_STATUS = """SELECT programme, academic_year, invited, consent_status, vaccinated, last_name, first_name
             FROM clinic_memberships WHERE child_id = $1 ORDER BY academic_year, programme"""


def test_one_head_and_numbered_revisions() -> None:
    scripts = ScriptDirectory.from_config(alembic_config(MIGRATIONS, url="", schema="cohort"))
    assert scripts.get_heads() == ["0007"]
    assert sorted(p.name[:4] for p in (MIGRATIONS / "versions").glob("0*.py")) == [
        "0001",
        "0002",
        "0003",
        "0004",
        "0005",
        "0006",
        "0007",
    ]


@pytest.fixture
async def schema(database_url: str) -> AsyncIterator[str]:
    name = f"cohort_m4_{uuid.uuid4().hex[:8]}"
    yield name
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


async def _connect(database_url: str, schema: str) -> asyncpg.Connection:
    return await asyncpg.connect(database_url, server_settings={"search_path": schema})


async def test_0004_fills_in_what_is_there_and_downgrades(database_url: str, schema: str) -> None:
    await asyncio.to_thread(upgrade, MIGRATIONS, url=database_url, schema=schema, revision="0003")
    ada, bo = uuid.uuid4(), uuid.uuid4()
    conn = await _connect(database_url, schema)
    try:
        await conn.execute(_CHILD, ada, "Ada", "Lovelace")
        await conn.execute(_CHILD, bo, "Bo", "Diddley")
        for child, year, programme in ((ada, 2025, "flu"), (ada, 2025, "hpv"), (ada, 2024, "flu"), (bo, 2025, "flu")):
            await conn.execute(_MEMBER, child, year, programme)
        await conn.execute(_CONSENT, ada, "flu", "refused", AT)
        await conn.execute(_VACCINATION, uuid.uuid4(), ada, "hpv", 2023, AT)  # HPV is for life
        await conn.execute(_VACCINATION, uuid.uuid4(), ada, "flu", 2024, AT)  # flu is this year's only
        await conn.execute(_INVITATION, uuid.uuid4(), ada, ["flu"], 2025, False)
        await conn.execute(_INVITATION, uuid.uuid4(), bo, None, None, True)  # sent, not yet seen scheduled
        await asyncio.to_thread(upgrade, MIGRATIONS, url=database_url, schema=schema, revision="0004")
        assert [tuple(r) for r in await conn.fetch(_STATUS, ada)] == [
            ("flu", 2024, False, "no_response", True, "Lovelace", "Ada"),
            ("flu", 2025, True, "refused", False, "Lovelace", "Ada"),
            ("hpv", 2025, False, "no_response", True, "Lovelace", "Ada"),
        ]
        assert [tuple(r) for r in await conn.fetch(_STATUS, bo)] == [
            ("flu", 2025, True, "no_response", False, "Diddley", "Bo")
        ]

        config = alembic_config(MIGRATIONS, url=database_url, schema=schema)
        await asyncio.to_thread(command.downgrade, config, "0003")
        columns = "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2"
        assert "invited" not in {r[0] for r in await conn.fetch(columns, schema, "clinic_memberships")}
        await conn.execute(_CONSENT, bo, "flu", "given", AT)  # while no trigger keeps the statuses
        await asyncio.to_thread(upgrade, MIGRATIONS, url=database_url, schema=schema, revision="0004")
        assert (await conn.fetchrow(_STATUS, bo))["consent_status"] == "given"
    finally:
        await conn.close()


async def test_triggers_keep_statuses_and_names_as_rows_change(database_url: str, schema: str) -> None:
    await asyncio.to_thread(upgrade, MIGRATIONS, url=database_url, schema=schema)
    ada = uuid.uuid4()
    conn = await _connect(database_url, schema)
    try:
        await conn.execute(_CHILD, ada, "Ada", "Lovelace")
        await conn.execute(_CONSENT, ada, "flu", "given", AT)  # before the child joins
        await conn.execute(_MEMBER, ada, 2025, "flu")
        assert tuple(await conn.fetchrow(_STATUS, ada)) == ("flu", 2025, False, "given", False, "Lovelace", "Ada")
        invitation = uuid.uuid4()
        await conn.execute(_INVITATION, invitation, ada, ["flu"], 2025, False)
        # Scheduled is not invited: a parent must have been sent it (migration 0006).
        assert (await conn.fetchrow(_STATUS, ada))["invited"] is False
        await conn.execute("UPDATE invitations SET sent = true WHERE invitation_id = $1", invitation)
        await conn.execute("UPDATE consents SET status = 'refused' WHERE child_id = $1", ada)
        await conn.execute(_VACCINATION, uuid.uuid4(), ada, "flu", 2025, AT)
        await conn.execute("UPDATE children SET last_name = 'King' WHERE id = $1", ada)
        assert tuple(await conn.fetchrow(_STATUS, ada)) == ("flu", 2025, True, "refused", True, "King", "Ada")
        # A placeholder filled in by its InvitationsScheduled for another year no longer counts.
        await conn.execute("UPDATE invitations SET academic_year = 2024 WHERE invitation_id = $1", invitation)
        await conn.execute("DELETE FROM vaccinations WHERE child_id = $1", ada)
        assert tuple(await conn.fetchrow(_STATUS, ada)) == ("flu", 2025, False, "refused", False, "King", "Ada")
    finally:
        await conn.close()


async def test_0006_counts_only_sent_invitations_and_downgrades(database_url: str, schema: str) -> None:
    await asyncio.to_thread(upgrade, MIGRATIONS, url=database_url, schema=schema, revision="0005")
    ada, bo, cy = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    conn = await _connect(database_url, schema)
    try:
        for child, name in ((ada, "Ada"), (bo, "Bo"), (cy, "Cy")):
            await conn.execute(_CHILD, child, name, "Lovelace")
            await conn.execute(_MEMBER, child, 2025, "flu")
        await conn.execute(_INVITATION, uuid.uuid4(), ada, ["flu"], 2025, True)
        await conn.execute(_INVITATION, uuid.uuid4(), bo, ["flu"], 2025, False)  # scheduled only
        await conn.execute(_INVITATION, uuid.uuid4(), cy, ["flu"], 2024, True)  # sent, another year
        await asyncio.to_thread(upgrade, MIGRATIONS, url=database_url, schema=schema)
        invited = [(await conn.fetchrow(_STATUS, c))["invited"] for c in (ada, bo, cy)]
        assert invited == [True, False, False]

        config = alembic_config(MIGRATIONS, url=database_url, schema=schema)
        await asyncio.to_thread(command.downgrade, config, "0005")
        assert (await conn.fetchrow(_STATUS, bo))["invited"] is True
    finally:
        await conn.close()


async def test_a_consent_and_a_join_of_one_child_at_once_are_both_seen(database_url: str, schema: str) -> None:
    """Each transaction's trigger alone would miss the other's uncommitted row; the child's row lock orders them."""
    await asyncio.to_thread(upgrade, MIGRATIONS, url=database_url, schema=schema)
    ada = uuid.uuid4()
    consenting, joining, watching = [await _connect(database_url, schema) for _ in range(3)]
    try:
        await watching.execute(_CHILD, ada, "Ada", "Lovelace")
        consent = consenting.transaction()
        await consent.start()
        await consenting.execute(_CONSENT, ada, "flu", "given", AT)
        join_pid = joining.get_server_pid()

        async def join() -> None:
            async with joining.transaction():
                await joining.execute(_MEMBER, ada, 2025, "flu")

        joined = asyncio.create_task(join())

        async def join_waits_on_the_child() -> bool:
            waiting = "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1"
            return await watching.fetchval(waiting, join_pid) == "Lock"

        await eventually(join_waits_on_the_child, what="the join to wait for the consent's transaction")
        await consent.commit()
        await asyncio.wait_for(joined, timeout=10)
        assert (await watching.fetchrow(_STATUS, ada))["consent_status"] == "given"
    finally:
        for conn in (consenting, joining, watching):
            await conn.close()
