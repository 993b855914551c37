"""Fixtures of the cohort tests: the service running against the run's database and vhost."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import aio_pika
import pytest
from faststream.rabbit import RabbitBroker
from sqlalchemy.ext.asyncio import AsyncConnection

from cohort.app import create_app
from cohort.config import Settings
from msgkit.clock import FixedClock
from msgkit.db import create_engine
from msgkit.failover import FailoverBroker
from msgkit.runtime import Runtime
from testkit import running

from . import cohort_support

# A Wednesday in term time: academic year 2025.
NOW = datetime(2025, 10, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def cohort_database(migrated: Callable[[str], str]) -> str:
    return migrated("cohort")


@pytest.fixture
async def cohort_sql(cohort_database: str) -> AsyncIterator[AsyncConnection]:
    """A connection to the cohort schema in a transaction that is rolled back: for running SQL rules alone."""
    engine = create_engine(cohort_database, schema="cohort", pool_size=1)
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            try:
                yield connection
            finally:
                await transaction.rollback()
    finally:
        await engine.dispose()


@pytest.fixture
async def runtime(cohort_database: str, amqp_url: str, clock: FixedClock) -> AsyncIterator[Runtime]:
    database_url = cohort_database
    await cohort_support.ensure_sink(amqp_url)
    settings = Settings(
        database_url=database_url, rabbitmq_url=amqp_url, http_port=0, log_json=False, outbox_poll_interval=0.2
    )
    app = create_app(settings, clock=clock)
    async with running(app):
        yield app.context.get("runtime")


@pytest.fixture
async def client(runtime: Runtime, amqp_url: str) -> AsyncIterator[RabbitBroker]:
    broker = FailoverBroker(amqp_url, log_level=40)
    await broker.connect()
    try:
        yield broker
    finally:
        await broker.stop()


@pytest.fixture
async def tap(runtime: Runtime, amqp_url: str) -> AsyncIterator[cohort_support.Tap]:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        yield await cohort_support.open_tap(channel)
