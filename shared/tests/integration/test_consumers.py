"""A consumer the broker no longer delivers to is seen by readiness and attached again (FastStream #2758)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from contracts.sessions import TeamSettings, TeamUpdated
from msgkit.consumers import consuming_subscribers
from msgkit.runtime import Runtime
from testkit import eventually

from .kit_service import publish, running_pair, seen

pytestmark = pytest.mark.integration


@pytest.fixture
async def services(database_url: str, amqp_url: str) -> AsyncIterator[tuple[Runtime, Runtime]]:
    async with running_pair(database_url, amqp_url, prefix="wd") as pair:
        yield pair


async def detach_behind_the_clients_back(consumer: Runtime) -> str:
    """Cancel the consumer on the AMQP channel itself: the broker stops delivering, while aio-pika and
    FastStream still count it as consuming, which is the state #2758 describes after a node replacement."""
    (subscriber,) = consuming_subscribers(consumer.broker)
    queue = subscriber._queue_obj
    assert queue is not None and subscriber._consumer_tag is not None
    channel = await queue.channel.get_underlay_channel()
    await channel.basic_cancel(subscriber._consumer_tag)
    assert subscriber.running, "FastStream does not notice"
    return subscriber.queue.name


async def publish_team_updated(producer: Runtime) -> TeamUpdated:
    event = TeamUpdated(
        team=TeamSettings(ods_code="RWD", name="Watchdog SAIS", email="team@example.com", phone="0113 000 0000")
    )
    await publish(producer, event)
    return event


async def test_a_detached_consumer_fails_readiness_and_is_attached_again(services: tuple[Runtime, Runtime]) -> None:
    producer, consumer = services
    assert (await consumer.readiness())["consumers"]
    queue = await detach_behind_the_clients_back(consumer)

    assert await consumer.consumers.detached() == [queue]
    assert not (await consumer.readiness())["consumers"]
    # One sighting could be a restore in progress; the second, a check interval later, is acted on.
    assert await consumer.consumers.check_once() == []
    assert await consumer.consumers.check_once() == [queue]

    assert await consumer.consumers.detached() == []
    assert (await consumer.readiness())["consumers"]
    event = await publish_team_updated(producer)

    async def consumed() -> bool:
        async with consumer.sessions() as session:
            return bool((await session.execute(select(seen).where(seen.c.message_id == event.message_id))).first())

    await eventually(consumed, what="the re-attached consumer to handle a new event")


async def test_attached_consumers_are_left_alone(services: tuple[Runtime, Runtime]) -> None:
    _, consumer = services
    (subscriber,) = consuming_subscribers(consumer.broker)
    tag = subscriber._consumer_tag
    assert await consumer.consumers.check_once() == []
    assert await consumer.consumers.check_once() == []
    assert subscriber._consumer_tag == tag
