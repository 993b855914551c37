"""Two services built from msgkit (the kit's own stand-in) on the cluster: outbox relay, inbox consumer, RPC."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import func, select

from contracts.sessions import TeamSettings, TeamUpdated
from msgkit.runtime import Runtime
from shared.tests.integration.kit_service import publish, running_pair, seen_count, tables


@dataclass
class KitServices:
    """`sessions` publishes TeamUpdated through its outbox and answers GetSession; `notify` consumes it."""

    producer: Runtime
    consumer: Runtime
    written: int = 0

    async def write_event(self) -> None:
        """One TeamUpdated, committed into the producer's outbox (the relay publishes it)."""
        team = TeamSettings(ods_code="RCL", name="Cluster SAIS", email="team@example.com", phone="0113 000 0000")
        await publish(self.producer, TeamUpdated(team=team))
        self.written += 1

    async def seen(self) -> int:
        return await seen_count(self.consumer)

    async def outbox(self) -> int:
        async with self.producer.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(tables.outbox))).scalar_one())


@asynccontextmanager
async def kit_services(database_url: str, addresses: str) -> AsyncIterator[KitServices]:
    async with running_pair(database_url, addresses, prefix="cl") as (producer, consumer):
        yield KitServices(producer, consumer)
