"""The messaging kit against real RabbitMQ and PostgreSQL: outbox, inbox, dead letters, requests."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aio_pika
import pytest
from sqlalchemy import func, select, text

from contracts import topology
from contracts.sessions import GetSession, TeamSettings, TeamUpdated
from msgkit import rpc
from msgkit.deadletter import REASON_HEADER
from msgkit.runtime import Runtime
from msgkit.senders import connection_user
from testkit import RabbitServer, eventually

from .kit_service import publish, running_pair, seen, seen_count, tables

pytestmark = pytest.mark.integration


def team_updated(name: str = "Leeds SAIS", ods: str = "RXX") -> TeamUpdated:
    return TeamUpdated(team=TeamSettings(ods_code=ods, name=name, email="team@example.com", phone="0113 000 0000"))


@pytest.fixture
async def services(database_url: str, amqp_url: str) -> AsyncIterator[tuple[Runtime, Runtime]]:
    """A publishing service ("sessions") and a consuming one ("notify"), each in its own schema."""
    async with _services(database_url, amqp_url) as pair:
        yield pair


@asynccontextmanager
async def _services(database_url: str, amqp_url: str) -> AsyncIterator[tuple[Runtime, Runtime]]:
    async with running_pair(database_url, amqp_url, prefix="kit") as pair:
        await purge(amqp_url)
        yield pair


async def purge(amqp_url: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for b in topology.bindings("notify"):
            queue = await channel.declare_queue(b.dead_letter_queue, passive=True)
            await queue.purge()


async def outbox_count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(tables.outbox))).scalar_one())


async def test_committed_message_crosses_to_the_consumer_quickly(services: tuple[Runtime, Runtime]) -> None:
    producer, consumer = services
    started = time.perf_counter()
    await publish(producer, team_updated())
    await eventually(lambda: seen_count(consumer), timeout=5, what="the consumer to record the event")
    assert time.perf_counter() - started < 1.0, "woken on commit, not left to the poll interval"
    assert await outbox_count(producer) == 0


async def test_rolled_back_transaction_publishes_nothing(services: tuple[Runtime, Runtime]) -> None:
    producer, consumer = services
    await publish(producer, team_updated(ods="RBACK"), commit=False)
    await publish(producer, team_updated(ods="LATER"))
    await eventually(lambda: seen_count(consumer), what="the later event")
    async with consumer.sessions() as session:
        seen_ods = (await session.execute(select(seen.c.ods))).scalars().all()
    assert seen_ods == ["LATER"]


async def test_rows_written_to_the_outbox_early_leave_at_commit_and_wake_the_relay(
    services: tuple[Runtime, Runtime],
) -> None:
    from msgkit.uow import UnitOfWork

    producer, consumer = services
    woken = []
    uow = UnitOfWork(producer.sessions, producer.tables, consumer=producer.service, on_commit=lambda: woken.append(1))
    async with uow:
        uow.publish(team_updated(ods="EARLY1"))
        await uow.write_outbox()
        uow.publish(team_updated(ods="EARLY2"))
        await uow.write_outbox()
        await uow.write_outbox()  # nothing queued: writes nothing
        await uow.commit()
    assert woken == [1], "the relay is woken once, though nothing was left queued at the commit"
    producer.wake_relay()
    await eventually(lambda: _true(seen_count(consumer), 2), what="both events")

    async with uow:  # written early, then rolled back: nothing leaves
        uow.publish(team_updated(ods="GONE"))
        await uow.write_outbox()
    async with producer.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(tables.outbox))).scalar_one() == 0


async def _true(count: Any, target: int) -> bool:
    return bool(await count >= target)


async def test_duplicate_delivery_has_one_effect(services: tuple[Runtime, Runtime], amqp_url: str) -> None:
    _, consumer = services
    event = team_updated()
    b = topology.binding("notify", TeamUpdated)
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(b.exchange)
        for _ in range(3):  # what a relay crash between publish and delete, or a redelivery, looks like
            body = aio_pika.Message(
                event.model_dump_json().encode(),
                content_type="application/json",
                message_id=str(event.message_id),
                user_id=connection_user(amqp_url),  # the admin: an operator, whose messages every queue takes
            )
            await exchange.publish(body, routing_key=b.routing_key)
        marker = team_updated(ods="MARK")
        await exchange.publish(
            aio_pika.Message(
                marker.model_dump_json().encode(), content_type="application/json", user_id=connection_user(amqp_url)
            ),
            routing_key=b.routing_key,
        )

    async def marker_seen() -> bool:
        async with consumer.sessions() as session:
            return bool((await session.execute(select(seen).where(seen.c.ods == "MARK"))).first())

    await eventually(marker_seen, what="the marker event")
    async with consumer.sessions() as session:
        duplicates = (await session.execute(select(func.count()).where(seen.c.message_id == event.message_id))).scalar()
    assert duplicates == 1


async def test_invalid_message_is_dead_lettered_with_reason_and_consumption_goes_on(
    services: tuple[Runtime, Runtime], amqp_url: str
) -> None:
    producer, consumer = services
    b = topology.binding("notify", TeamUpdated)
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(b.exchange)
        bad = aio_pika.Message(
            b'{"team": {"ods_code": "not valid!"}}',
            content_type="application/json",
            message_id=str(uuid.uuid4()),
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            user_id=connection_user(amqp_url),
        )
        await exchange.publish(bad, routing_key=b.routing_key)
        await publish(producer, team_updated(ods="AFTER"))
        await eventually(lambda: seen_count(consumer), what="the valid event after the bad one")
        dlq = await channel.declare_queue(b.dead_letter_queue, passive=True)

        async def dead_letter() -> aio_pika.abc.AbstractIncomingMessage | None:
            return await dlq.get(no_ack=True, fail=False)

        message = await eventually(dead_letter, what="the dead letter")
    assert message.message_id == bad.message_id
    reason = str(message.headers[REASON_HEADER])
    assert "invalid message" in reason and "team" in reason


async def test_transient_failure_is_retried_not_dropped(services: tuple[Runtime, Runtime]) -> None:
    producer, consumer = services
    # The handler raises for this name; after a retry with back-off it is still not lost:
    # it reaches the dead-letter queue only after the delivery limit, and meanwhile later work flows.
    await publish(producer, team_updated(name="explode", ods="BOOM"), team_updated(ods="FINE"))
    await eventually(lambda: seen_count(consumer), what="the healthy event past the failing one")


async def test_request_gets_a_reply_and_bad_request_a_clear_error(services: tuple[Runtime, Runtime]) -> None:
    producer, _ = services
    session_id = uuid.uuid4()
    reply = await rpc.request(producer.broker, GetSession(session_id=session_id), timeout=5)
    assert reply.ok and reply.data == {"session_id": str(session_id)}
    refused = await rpc.request(producer.broker, GetSession(session_id=uuid.UUID(int=0)), timeout=5)
    assert not refused.ok and refused.error is not None
    assert refused.error.code == "not_found"


@pytest.fixture
async def services_on_own_broker(
    database_url: str, own_rabbit: RabbitServer
) -> AsyncIterator[tuple[Runtime, Runtime, RabbitServer]]:
    """The two services on a broker node of the run's own, which the test may stop (see own_rabbit)."""
    with own_rabbit.fresh_vhost() as amqp_url:
        async with _services(database_url, amqp_url) as (producer, consumer):
            yield producer, consumer, own_rabbit


async def test_after_broker_restart_consumers_resume_and_outbox_drains(
    services_on_own_broker: tuple[Runtime, Runtime, RabbitServer],
) -> None:
    producer, consumer, rabbit = services_on_own_broker
    rabbit.ctl("stop_app")
    try:
        await publish(producer, team_updated(ods="DURING"))  # committed while the broker is away
    finally:
        rabbit.ctl("start_app")
    await eventually(lambda: seen_count(consumer), timeout=60, what="the event committed during the outage")
    await publish(producer, team_updated(ods="AFTER"))

    async def both() -> bool:
        return await seen_count(consumer) == 2

    await eventually(both, timeout=30, what="a new event after the restart")
    async with consumer.engine.connect() as conn:
        assert (await conn.execute(text("SELECT 1"))).scalar() == 1


async def test_a_batch_claim_returns_each_new_message_once(services: tuple[Runtime, Runtime]) -> None:
    from msgkit.uow import UnitOfWork

    _, consumer = services
    seen_before, new = team_updated(ods="RA1"), team_updated(ods="RB1")
    uow = UnitOfWork(consumer.sessions, consumer.tables, consumer="batch-test")
    async with uow:
        assert await uow.claim(seen_before)
        assert await uow.claim_many([seen_before, new, new]) == [new]
        await uow.commit()
    async with uow:
        assert await uow.claim_many([new, seen_before]) == []
        assert await uow.claim_many([]) == []
