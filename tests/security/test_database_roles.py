"""Each service's PostgreSQL role can use only its own schema: another service's tables are refused."""

from __future__ import annotations

import itertools

import asyncpg
import pytest

from clinics_admin.bootstrap import service_database_url
from contracts.topology import SERVICES

pytestmark = pytest.mark.integration

# Every service has these (msgkit.tables).
SHARED_TABLES = ("outbox_messages", "processed_messages")


async def connect_as(url: str, service: str) -> asyncpg.Connection:
    return await asyncpg.connect(service_database_url(url, service))


async def tables_of(url: str, schema: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", schema)
    finally:
        await conn.close()
    return {r["tablename"] for r in rows}


async def test_each_role_owns_its_migrated_schema(roles_database: str) -> None:
    for service in SERVICES:
        tables = await tables_of(roles_database, service)
        assert set(SHARED_TABLES) <= tables, (service, tables)
        conn = await connect_as(roles_database, service)
        try:
            assert await conn.fetchval("SELECT current_user") == service
            assert await conn.fetchval("SHOW search_path") == service
            assert await conn.fetchval(f'SELECT count(*) FROM "{service}".processed_messages') == 0
            flags = await conn.fetchrow(
                "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = $1", service
            )
            assert not any(flags.values()), dict(flags)
        finally:
            await conn.close()


@pytest.mark.parametrize(("reader", "owner"), list(itertools.permutations(SERVICES, 2)))
async def test_a_service_cannot_read_or_write_another_services_tables(
    roles_database: str, reader: str, owner: str
) -> None:
    tables = await tables_of(roles_database, owner)
    assert tables, owner
    conn = await connect_as(roles_database, reader)
    try:
        for table in sorted(tables):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await conn.fetch(f'SELECT * FROM "{owner}"."{table}" LIMIT 1')
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(f'DELETE FROM "{owner}".processed_messages')
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(f'CREATE TABLE "{owner}".planted (id int)')
    finally:
        await conn.close()


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_cannot_create_schemas_or_public_tables_or_become_another_role(
    roles_database: str, service: str
) -> None:
    conn = await connect_as(roles_database, service)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE SCHEMA planted")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE public.planted (id int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TEMPORARY TABLE planted (id int)")
        for other in SERVICES:
            if other != service:
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute(f'SET ROLE "{other}"')
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SET ROLE postgres")
    finally:
        await conn.close()
