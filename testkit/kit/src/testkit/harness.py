"""In-process test harness: wait on a condition, run an app, observe what a service publishes, drive it.

A service's tests start its app with `running`, bind an `Observer` with `observe` and drive the app with
a `Harness` (or a thin subclass adding the service's own seeding and queries), only through the contract.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import aio_pika
from faststream.rabbit import RabbitBroker
from sqlalchemy import Select, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import topology
from contracts.envelope import Message, Reply
from msgkit import rpc
from msgkit.clock import FixedClock

T = TypeVar("T")

WAIT = 10.0  # seconds a harness waits for a reply, a message or a row


async def eventually(
    probe: Callable[[], Awaitable[T]], *, timeout: float = 10.0, interval: float = 0.02, what: str = "condition"
) -> T:
    """Poll `probe` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


class running:
    """Start an app's hooks and broker against real servers for the length of a block."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __aenter__(self) -> Any:
        await self.app.start()
        return self.app

    async def __aexit__(self, *exc: object) -> None:
        await self.app.stop()


def new_team() -> str:
    """A fresh team ODS code: settings and clinic windows are per team, and a run shares one database."""
    return "T" + uuid.uuid4().hex[:8].upper()


async def published_queue(channel: aio_pika.abc.AbstractChannel, service: str) -> aio_pika.abc.AbstractQueue:
    """An exclusive queue bound to every exchange `service` publishes on (declared, if it is not yet)."""
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    for name in sorted({topology.route_for(m).exchange for m in topology.published_by(service)}):
        exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
        await queue.bind(exchange, routing_key="#")
    return queue


class Observer:
    """The events and commands a service published, read from a queue bound to its exchanges.

    `drain()` reads what has arrived into `seen`. `batched` names, per message type, the list whose
    items carry the child_id (notify's ``{"NotificationsSent": "notifications"}``): for those types
    `of(kind, child_id)` gives the child's items rather than whole messages.
    """

    def __init__(self, queue: aio_pika.abc.AbstractQueue, *, batched: Mapping[str, str] | None = None) -> None:
        self.queue = queue
        self.batched = dict(batched or {})
        self.seen: list[dict[str, Any]] = []

    async def drain(self) -> list[dict[str, Any]]:
        while (message := await self.queue.get(no_ack=True, fail=False)) is not None:
            self.seen.append(json.loads(message.body))
        return self.seen

    def of(self, kind: str | None = None, child_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
        """What was seen of `kind` (any when None) about `child_id` (anyone when None)."""
        found = [m for m in self.seen if kind is None or m.get("type") == kind]
        if child_id is None:
            return found
        if kind in self.batched:
            return [i for m in found for i in m[self.batched[kind]] if i["child_id"] == str(child_id)]
        return [m for m in found if m.get("child_id") == str(child_id)]

    async def wait_for(self, kind: str, child_id: uuid.UUID | None = None, count: int = 1) -> list[dict[str, Any]]:
        """At least `count` of `kind` about `child_id`, reading the queue until they have arrived."""

        async def probe() -> list[dict[str, Any]]:
            await self.drain()
            found = self.of(kind, child_id)
            return found if len(found) >= count else []

        about = "" if child_id is None else " for the child"
        return await eventually(probe, timeout=WAIT, what=f"{count} {kind}{about}")


async def observe(
    channel: aio_pika.abc.AbstractChannel, service: str, *, batched: Mapping[str, str] | None = None
) -> Observer:
    """An observer of everything `service` publishes from now on."""
    return Observer(await published_queue(channel, service), batched=batched)


async def publish(client: RabbitBroker, message: Message, *, times: int = 1) -> None:
    """Publish as the producer's outbox relay would; each time with the same message id (a redelivery)."""
    route = topology.route_for(type(message))
    for _ in range(times):
        await client.publish(
            message.model_dump_json().encode(),
            exchange=route.exchange,
            routing_key=route.routing_key,
            content_type="application/json",
            message_id=str(message.message_id),
            persist=True,
        )


def _where(query: Select[Any], table: Table, where: Mapping[str, Any]) -> Select[Any]:
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    return query


class Harness:
    """Drives a running service only through the contract, and reads its rows to assert.

    The engine's search_path is the service's schema, so SQL names its tables unqualified.
    """

    def __init__(self, client: RabbitBroker, engine: AsyncEngine, clock: FixedClock, observer: Observer) -> None:
        self.client = client
        self.engine = engine
        self.clock = clock
        self.observer = observer
        self.team = new_team()

    async def publish(self, message: Message, *, times: int = 1) -> None:
        await publish(self.client, message, times=times)

    async def ask(self, message: Message) -> Reply:
        return await rpc.request(self.client, message, timeout=WAIT)

    async def query(self, sql: str, **params: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())

    async def rows(self, table: Table, **where: Any) -> list[Any]:
        """The rows of `table` whose columns equal `where`."""
        async with self.engine.connect() as conn:
            return list((await conn.execute(_where(select(table), table, where))).all())

    async def count(self, table: Table, **where: Any) -> int:
        async with self.engine.connect() as conn:
            query = _where(select(func.count()).select_from(table), table, where)
            return int((await conn.execute(query)).scalar_one())

    async def wait_rows(self, table: Table, count: int = 1, **where: Any) -> None:
        async def probe() -> bool:
            return await self.count(table, **where) >= count

        await eventually(probe, timeout=WAIT, what=f"{count} row(s) in {table.name} where {where}")

    async def processed(self, message: Message) -> bool:
        found = await self.query("SELECT 1 FROM processed_messages WHERE message_id = :m", m=message.message_id)
        return bool(found)

    async def wait_processed(self, message: Message) -> None:
        await eventually(lambda: self.processed(message), timeout=WAIT, what=f"{type(message).__name__} handled")

    async def outbox_drained(self) -> None:
        async def probe() -> bool:
            return not await self.query("SELECT 1 FROM outbox_messages LIMIT 1")

        await eventually(probe, timeout=WAIT, what="the outbox to drain")
