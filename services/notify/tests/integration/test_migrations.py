"""The hand-written migrations build exactly the schema tables.py describes, with one head."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from msgkit.migrations import alembic_config
from notify.migrate import MIGRATIONS
from notify.tables import metadata

pytestmark = pytest.mark.integration


def test_one_head_and_numbered_revisions() -> None:
    scripts = ScriptDirectory.from_config(alembic_config(MIGRATIONS, url="", schema="notify"))
    assert scripts.get_heads() == ["0001"]
    assert sorted(p.name[:4] for p in (MIGRATIONS / "versions").glob("0*.py")) == ["0001"]


async def test_migrated_schema_matches_the_tables(engine: AsyncEngine) -> None:
    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert [d for d in differences if not (isinstance(d, tuple) and d[0] == "remove_table")] == []
