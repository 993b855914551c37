"""Fixtures of the consent tests: the app on the real broker and database, a client, and an observer."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any

import aio_pika
import pytest
from faststream.rabbit import RabbitBroker
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from consent import tables
from consent.app import create_app
from consent.config import Settings
from contracts import topology
from contracts.cohort import ChildrenUpserted, ChildSnapshot, ParentContact
from contracts.common import Programme
from contracts.envelope import Message, Reply
from contracts.sessions import ClinicDate, ClinicDatesChanged
from msgkit import rpc
from msgkit.clock import FixedClock
from msgkit.db import create_engine
from msgkit.testing import eventually, running

# 10 March 2026, midday in London: academic year 2025.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TEAM = "RYG"  # children and clinics built outside a harness


class Observer:
    """A temporary queue bound to everything consent publishes (events and commands)."""

    def __init__(self, queue: aio_pika.abc.AbstractQueue) -> None:
        self.queue = queue
        self.seen: list[tuple[str, dict[str, Any]]] = []

    async def drain(self) -> list[tuple[str, dict[str, Any]]]:
        while (message := await self.queue.get(no_ack=True, fail=False)) is not None:
            body = json.loads(message.body)
            self.seen.append((str(body.get("type")), body))
        return self.seen

    def about(self, child_id: uuid.UUID, kind: str | None = None) -> list[dict[str, Any]]:
        return [b for t, b in self.seen if b.get("child_id") == str(child_id) and (kind is None or t == kind)]

    async def wait_for(self, child_id: uuid.UUID, kind: str, count: int = 1) -> list[dict[str, Any]]:
        async def probe() -> list[dict[str, Any]]:
            await self.drain()
            found = self.about(child_id, kind)
            return found if len(found) >= count else []

        return await eventually(probe, timeout=10, what=f"{count} {kind} for the child")


class Harness:
    """Drives the running consent service only through the contract, and reads its rows to assert."""

    def __init__(self, client: RabbitBroker, engine: AsyncEngine, clock: FixedClock, observer: Observer) -> None:
        self.client = client
        self.engine = engine
        self.clock = clock
        self.observer = observer
        # Each test its own team: clinic windows are per team, and the database is shared by the run.
        self.team = f"T{uuid.uuid4().hex[:8].upper()}"

    async def publish(self, message: Message) -> None:
        route = topology.route_for(type(message))
        await self.client.publish(
            message.model_dump_json().encode(),
            exchange=route.exchange,
            routing_key=route.routing_key,
            content_type="application/json",
            message_id=str(message.message_id),
            persist=True,
        )

    async def request(self, message: Message) -> Reply:
        return await rpc.request(self.client, message, timeout=10)

    async def count(self, table: Any, **where: Any) -> int:
        query = select(func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def rows(self, table: Any, **where: Any) -> list[Any]:
        query = select(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        async with self.engine.connect() as conn:
            return list((await conn.execute(query)).all())

    async def wait_rows(self, table: Any, count: int = 1, **where: Any) -> None:
        async def probe() -> bool:
            return await self.count(table, **where) >= count

        await eventually(probe, timeout=10, what=f"{count} row(s) in {table.name} where {where}")

    async def outbox_drained(self) -> None:
        async def probe() -> bool:
            return await self.count(tables.messaging.outbox) == 0

        await eventually(probe, timeout=10, what="the outbox to drain")

    async def seed_child(self, child_id: uuid.UUID | None = None, **overrides: Any) -> ChildSnapshot:
        snapshot = make_child(child_id or uuid.uuid4(), **{"team_ods": self.team, **overrides})
        await self.publish(ChildrenUpserted(children=[snapshot]))
        await self.wait_rows(tables.children, child_id=snapshot.child_id)
        return snapshot

    async def seed_clinic(
        self, *dates: date, programmes: list[Programme] | None = None, closes_on: date | None = None
    ) -> ClinicDatesChanged:
        event = clinic_dates(*dates, programmes=programmes, team=self.team, closes_on=closes_on)
        await self.publish(event)
        await self.wait_rows(tables.clinic_sessions, session_id=event.session_id)
        return event


def make_parent(**overrides: Any) -> ParentContact:
    fields: dict[str, Any] = {
        "parent_id": uuid.uuid4(),
        "name": "A Parent",
        "email": "parent@example.com",
        "phone": "07700900000",
        "receive_updates": False,
    }
    return ParentContact(**{**fields, **overrides})


def make_child(child_id: uuid.UUID, **overrides: Any) -> ChildSnapshot:
    fields: dict[str, Any] = {
        "child_id": child_id,
        "team_ods": TEAM,
        "first_name": "Test",
        "last_name": "Child",
        "date_of_birth": date(2015, 5, 1),
        "school_urn": "999999",
        "parents": [make_parent()],
    }
    return ChildSnapshot(**{**fields, **overrides})


def clinic_dates(
    *dates: date, programmes: list[Programme] | None = None, team: str = TEAM, closes_on: date | None = None
) -> ClinicDatesChanged:
    return ClinicDatesChanged(
        session_id=uuid.uuid4(),
        team_ods=team,
        programmes=programmes or [Programme.FLU],
        academic_year=2025,
        dates=[ClinicDate(on=d) for d in dates],
        first_upcoming_date=min(dates, default=None),
        last_date=max(dates, default=None),
        consent_window_closes_on=closes_on,
    )


@pytest.fixture(name="make_parent")
def make_parent_fixture() -> Callable[..., ParentContact]:
    return make_parent


@pytest.fixture(name="make_child")
def make_child_fixture() -> Callable[..., ChildSnapshot]:
    return make_child


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(scope="session")
def consent_url(migrated: Callable[[str], str]) -> str:
    return migrated("consent")


@pytest.fixture
async def harness(consent_url: str, amqp_url: str, clock: FixedClock) -> AsyncIterator[Harness]:
    url = consent_url
    settings = Settings(database_url=url, rabbitmq_url=amqp_url, http_port=0, log_json=False)
    engine = create_engine(url, schema="consent")
    client = RabbitBroker(amqp_url)
    await client.connect()
    connection = await aio_pika.connect(amqp_url)
    try:
        async with running(create_app(settings, clock=clock)), connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(f"test.consent.observer.{uuid.uuid4().hex[:8]}", exclusive=True)
            for message in topology.published_by("consent"):
                await queue.bind(topology.route_for(message).exchange, routing_key="consent.#")
            harness = Harness(client, engine, clock, Observer(queue))
            yield harness
            # Leave nothing for the next test's app to relay before its observer is bound.
            await harness.outbox_drained()
    finally:
        await client.stop()
        await engine.dispose()
