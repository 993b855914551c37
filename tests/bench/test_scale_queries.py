"""bench.scale_queries end to end at a small size: seeded, served over RabbitMQ, every query timed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack

import asyncpg
import pytest

from bench import scale_queries
from bench.stack import admin_dsn
from testkit import RabbitServer, fresh_database, postgres_server
from testkit.stack import World

pytestmark = pytest.mark.integration


@pytest.fixture
def own_database() -> Iterator[str]:
    """A database of its own: the seed rebuilds cohort's indexes, which no other test should see."""
    with ExitStack() as stack:
        yield stack.enter_context(fresh_database(stack.enter_context(postgres_server(stack))))


def test_every_staff_query_is_timed_over_rabbitmq(own_database: str, rabbit: RabbitServer) -> None:
    with rabbit.fresh_vhost() as amqp_url:
        found = scale_queries.run(World(own_database, amqp_url, rabbit), children=2_000, teams=2, samples=5)
    assert found["children"] == 2_000 and found["seed_s"] > 0
    expected = {f"list_{f.value}_{page}" for f in scale_queries.FILTERS for page in ("page1", "late")}
    expected |= {"find_nhs_number", "find_last_name", "invitations_preview", "activity_log"}
    assert set(found["queries"]) == expected
    for name, query in found["queries"].items():
        timing = query["service"]
        assert 0 < timing["p50_ms"] <= timing["p95_ms"] <= timing["max_ms"], name
    assert found["rows"]["clinic_memberships"] > 0 and found["rows"]["activity_log"] > found["rows"]["children"]


def test_the_seeded_statuses_are_what_the_triggers_would_give(own_database: str, rabbit: RabbitServer) -> None:
    """The seed writes memberships with their statuses (triggers off); recomputing them changes nothing."""
    scale_queries.migrate(own_database)
    plan = scale_queries.scale_seed.Plan(3_000, 2, 7, 2025)
    asyncio.run(scale_queries.scale_seed.seed(admin_dsn(own_database), plan))

    async def recomputed() -> int:
        conn = await asyncpg.connect(admin_dsn(own_database))
        try:
            await conn.execute("SET search_path = cohort")
            listed = (
                "SELECT child_id, invited, consent_status, vaccinated, last_name, first_name FROM clinic_memberships"
            )
            seeded = await conn.fetch(listed)
            await conn.execute("SELECT clinic_status_refresh(ARRAY(SELECT child_id FROM clinic_memberships))")
            return len(set(map(tuple, await conn.fetch(listed))) - set(map(tuple, seeded)))
        finally:
            await conn.close()

    assert asyncio.run(recomputed()) == 0
