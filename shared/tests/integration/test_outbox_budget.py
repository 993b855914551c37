"""The outbox relay holds a bounded number of bytes: large batched events leave a few at a time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import MetaData, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from msgkit.db import create_engine, session_factory
from msgkit.outbox import OutboxRelay, OutgoingMessage, within_budget
from msgkit.tables import messaging_tables

pytestmark = pytest.mark.integration


def test_a_batch_takes_the_leading_rows_that_fit_and_always_the_first() -> None:
    assert within_budget([(1, 40), (2, 40), (3, 40)], 100) == [1, 2]
    assert within_budget([(1, 500), (2, 1)], 100) == [1]  # one row larger than the budget still leaves
    assert within_budget([(7, 10), (8, 10)], 100) == [7, 8]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    schema = f"budget_{uuid.uuid4().hex[:8]}"
    engine = create_engine(database_url, schema=schema)
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield engine
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await engine.dispose()


async def test_relay_publishes_large_rows_a_budget_at_a_time(engine: AsyncEngine) -> None:
    outbox = messaging_tables(MetaData()).outbox
    async with engine.begin() as conn:
        await conn.run_sync(outbox.metadata.create_all)
        rows = [
            {"message_id": uuid.uuid4(), "message_type": "t", "exchange": "x", "routing_key": "k", "body": b"x" * 300}
            for _ in range(10)
        ]
        await conn.execute(insert(outbox), rows)
    batches: list[int] = []
    pending: list[OutgoingMessage] = []

    async def publish(message: OutgoingMessage) -> None:
        pending.append(message)

    sessions = session_factory(engine)
    relay = OutboxRelay(sessions, outbox, publish, service="test", batch_size=500, batch_bytes=1000)
    while await relay.relay_batch():
        batches.append(len(pending))
        pending.clear()
    batches.append(len(pending))
    assert batches == [3, 3, 3, 1]  # 900 bytes a batch, though 500 rows were allowed
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(outbox))).scalar_one() == 0
