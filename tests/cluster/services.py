"""Two services built from msgkit (the kit's own stand-in) on the cluster: outbox relay, inbox consumer, RPC."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import func, select

from contracts.sessions import TeamSettings, TeamUpdated
from msgkit.db import create_engine
from msgkit.runtime import Runtime
from msgkit.uow import UnitOfWork
from shared.tests.integration.kit_service import create_schema, make_app, seen, tables
from testkit import running


@dataclass
class KitServices:
    """`sessions` publishes TeamUpdated through its outbox and answers GetSession; `notify` consumes it."""

    producer: Runtime
    consumer: Runtime
    written: int = 0

    async def write_event(self) -> None:
        """One TeamUpdated, committed into the producer's outbox (the relay publishes it)."""
        team = TeamSettings(ods_code="RCL", name="Cluster SAIS", email="team@example.com", phone="0113 000 0000")
        producer = self.producer
        uow = UnitOfWork(producer.sessions, producer.tables, consumer=producer.service, on_commit=producer.wake_relay)
        async with uow:
            uow.publish(TeamUpdated(team=team))
            await uow.commit()
        self.written += 1

    async def seen(self) -> int:
        async with self.consumer.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(seen))).scalar_one())

    async def outbox(self) -> int:
        async with self.producer.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(tables.outbox))).scalar_one())


@asynccontextmanager
async def kit_services(database_url: str, addresses: str) -> AsyncIterator[KitServices]:
    suffix = uuid.uuid4().hex[:6]
    producer_app, producer = make_app(database_url, addresses, service="sessions", schema=f"cl_s_{suffix}")
    consumer_app, consumer = make_app(database_url, addresses, service="notify", schema=f"cl_n_{suffix}")
    engine = create_engine(database_url, schema="public")
    await create_schema(engine, producer.settings.schema_name)
    await create_schema(engine, consumer.settings.schema_name)
    await engine.dispose()
    async with running(producer_app), running(consumer_app):
        yield KitServices(producer, consumer)
