"""The consent form's PostgreSQL role owns its drafts and nothing else; no service role can read them."""

from __future__ import annotations

import asyncpg
import pytest

from clinics_admin.bootstrap import service_database_url
from contracts.topology import SERVICES

pytestmark = pytest.mark.integration
FORM = "consent_form"


async def test_the_form_role_owns_only_its_drafts(roles_database: str) -> None:
    conn = await asyncpg.connect(service_database_url(roles_database, FORM))
    try:
        owned = await conn.fetch("SELECT schemaname, tablename FROM pg_tables WHERE tableowner = current_user")
        assert {(r["schemaname"], r["tablename"]) for r in owned} == {(FORM, "drafts"), (FORM, "alembic_version")}
        flags = await conn.fetchrow(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        assert not any(flags.values()), dict(flags)
        for service in SERVICES:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetch(f'SELECT * FROM "{service}".processed_messages LIMIT 1')
    finally:
        await conn.close()


@pytest.mark.parametrize("service", SERVICES)
async def test_no_service_role_can_read_or_change_the_drafts(roles_database: str, service: str) -> None:
    conn = await asyncpg.connect(service_database_url(roles_database, service))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch(f'SELECT * FROM "{FORM}".drafts LIMIT 1')
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(f'DELETE FROM "{FORM}".drafts')
    finally:
        await conn.close()
