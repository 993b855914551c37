"""Fixtures of the sessions tests: the running service, a contract client, and a tap on its events."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import aio_pika
import pytest
from faststream.rabbit import RabbitBroker

from contracts import sessions as c
from contracts import topology
from contracts.envelope import Message, Reply
from msgkit import rpc
from msgkit.clock import FixedClock
from msgkit.failover import FailoverBroker
from sessions.app import create_app
from sessions.config import Settings
from testkit import eventually, published_queue, running

M = TypeVar("M", bound=Message)

# Wednesday 4 March 2026, 10:00 in London (GMT): tests move the clock from here.
START = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def new_ods() -> str:
    return "T" + uuid.uuid4().hex[:8].upper()


def new_urn() -> str:
    return f"{uuid.uuid4().int % 700000 + 100000:06d}"


class EventTap:
    """Every message the service published on `sessions.events` since the tap was bound."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []

    async def on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            self.received.append((message.routing_key or "", json.loads(message.body)))

    def of(self, kind: type[M], where: Callable[[M], bool] = lambda _: True) -> list[M]:
        key = topology.route_for(kind).routing_key
        parsed = [kind.model_validate(body) for routing_key, body in self.received if routing_key == key]
        return [m for m in parsed if where(m)]

    async def one(self, kind: type[M], where: Callable[[M], bool] = lambda _: True) -> M:
        async def probe() -> list[M]:
            return self.of(kind, where)

        found = await eventually(probe, timeout=10, what=f"a {kind.__name__}")
        return found[0]


class Client:
    """Speaks the contract to the running service, as another service or the CLI would."""

    def __init__(self, broker: RabbitBroker, tap: EventTap, clock: FixedClock) -> None:
        self.broker = broker
        self.tap = tap
        self.clock = clock

    async def ask(self, message: Message) -> Reply:
        return await rpc.request(self.broker, message, timeout=10)

    async def ok(self, message: Message) -> dict[str, Any]:
        reply = await self.ask(message)
        assert reply.ok, reply.error
        assert reply.data is not None
        return reply.data

    async def refused(self, message: Message) -> tuple[str, str]:
        reply = await self.ask(message)
        assert not reply.ok and reply.error is not None, reply.data
        return reply.error.code, reply.error.message

    async def settle(self) -> None:
        """Wait until everything published before now has reached the tap (a marker event goes last)."""
        marker = new_ods()
        await self.ok(team(marker))
        await self.tap.one(c.TeamUpdated, lambda e: e.team.ods_code == marker)

    new_ods = staticmethod(new_ods)
    new_urn = staticmethod(new_urn)

    @staticmethod
    def team(ods: str, **settings: Any) -> c.UpsertTeam:
        return team(ods, **settings)

    async def team_with_school(self, **settings: Any) -> tuple[str, str]:
        ods, urn = new_ods(), new_urn()
        await self.ok(team(ods, **settings))
        await self.ok(c.AddLocation(team_ods=ods, location_id=urn, kind="school", name="Park School"))
        return ods, urn


def team(ods: str, **settings: Any) -> c.UpsertTeam:
    fields: dict[str, Any] = {"ods_code": ods, "name": "Leeds SAIS", "email": "team@example.com", "phone": "0113 0"}
    return c.UpsertTeam(team=c.TeamSettings.model_validate({**fields, **settings}))


@pytest.fixture(scope="session")
def sessions_database(migrated: Callable[[str], str]) -> str:
    """The run's database with the sessions schema migrated (Alembic runs its own event loop)."""
    return migrated("sessions")


@pytest.fixture
async def client(sessions_database: str, amqp_url: str) -> AsyncIterator[Client]:
    settings = Settings(
        database_url=sessions_database, rabbitmq_url=amqp_url, http_port=0, log_json=False, log_level="WARNING"
    )
    clock = FixedClock(START)
    tap = EventTap()
    async with running(create_app(settings, clock=clock)):
        connection = await aio_pika.connect(amqp_url)
        broker = FailoverBroker(amqp_url, log_level=30)
        async with connection:
            channel = await connection.channel()
            queue = await published_queue(channel, "sessions")
            await queue.consume(tap.on_message)
            await broker.connect()
            try:
                yield Client(broker, tap, clock)
            finally:
                await broker.stop()
