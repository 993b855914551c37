"""The failover broker against the real local RabbitMQ: start-up past dead nodes, and renewing a nacked channel.

The node failures themselves are in tests/cluster (a real 3-node cluster); here one node stands for the live
one and closed ports for the dead.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiormq.exceptions import AMQPConnectionError, DeliveryError
from faststream.rabbit import RabbitQueue
from faststream.rabbit.schemas.queue import QueueType

from msgkit.broker import make_broker
from msgkit.failover import FailoverBroker
from testkit import eventually, free_port

pytestmark = pytest.mark.integration


def on_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.netloc.rpartition('@')[0]}@127.0.0.1:{port}"))


async def test_start_up_tries_every_node_until_one_answers(amqp_url: str) -> None:
    live = urlsplit(amqp_url).port or 5672
    dead = [free_port(), free_port()]
    broker = FailoverBroker(f"{on_port(amqp_url, dead[0])},127.0.0.1:{dead[1]},127.0.0.1:{live}", log_level=40)
    try:
        await broker.connect()
        assert broker.connected_node == ("127.0.0.1", live)
    finally:
        await broker.stop()


async def test_start_up_fails_once_every_node_has_refused(amqp_url: str) -> None:
    dead = [free_port(), free_port()]
    broker = FailoverBroker(f"{on_port(amqp_url, dead[0])},127.0.0.1:{dead[1]}", log_level=40)
    with pytest.raises(AMQPConnectionError):
        await broker.connect()
    await broker.stop()


async def test_a_nacked_publish_renews_the_channel_and_consumers_carry_on(amqp_url: str) -> None:
    suffix = uuid.uuid4().hex[:6]
    # A queue that refuses its second message: the broker nacks that publish, as it does on a poisoned channel.
    # (A classic queue: a quorum queue applies its length limit a little late.)
    full = RabbitQueue(
        f"failover.full.{suffix}", auto_delete=True, arguments={"x-max-length": 1, "x-overflow": "reject-publish"}
    )
    work = RabbitQueue(f"failover.work.{suffix}", queue_type=QueueType.QUORUM, durable=True)
    broker = make_broker(amqp_url, service="failover-test", prefetch_count=10, graceful_timeout=1.0)
    received: list[str] = []

    @broker.subscriber(work)
    async def on_work(body: str) -> None:
        received.append(body)

    await broker.start()
    try:
        await broker.declare_queue(full)
        await broker.publish("one", queue=full.name, persist=True)
        with pytest.raises(DeliveryError):
            await broker.publish("two", queue=full.name, persist=True)

        async def renewed() -> bool:
            return broker.channel_renewals == 1

        await eventually(renewed, what="the channel to be renewed")
        # The subscriber was restored on the new channel; publishing works on it.
        await broker.publish("after", queue=work.name, persist=True)

        async def consumed() -> bool:
            return received == ["after"]

        await eventually(consumed, what="the subscriber to get a message on the renewed channel")
    finally:
        await broker.stop()
