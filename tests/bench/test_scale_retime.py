"""bench.scale_retime at a small size, on a real bench stack: it runs, and what it reports is what happened."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack

import asyncpg
import pytest

from bench import scale_retime
from bench.stack import admin_dsn, stack, world
from testkit import RabbitServer, postgres_server

pytestmark = pytest.mark.integration

CHILDREN = 1_500


async def _old_or_new(database_url: str) -> list[tuple[str, int]]:
    conn = await asyncpg.connect(admin_dsn(database_url))
    try:
        rows = await conn.fetch("SELECT status, count(*) AS n FROM notify.invitations GROUP BY status ORDER BY status")
        return [(r["status"], r["n"]) for r in rows]
    finally:
        await conn.close()


def test_retime_reports_every_invitation_moved(rabbit: RabbitServer) -> None:
    with ExitStack() as exits:
        server_url = exits.enter_context(postgres_server(exits))
        the_world = exits.enter_context(world(server_url, rabbit))
        with stack("test-retime", the_world) as st:
            found = asyncio.run(scale_retime.retime(st, CHILDREN))
        assert found["retime_children"] == CHILDREN
        assert 0 < found["retime_seconds"] < 60
        assert found["retime_per_s"] == pytest.approx(CHILDREN / found["retime_seconds"], rel=0.01)
        # Nothing was due: every invitation is still scheduled (for the moved clinic, which retime checked).
        assert asyncio.run(_old_or_new(the_world.database_url)) == [("scheduled", CHILDREN)]
