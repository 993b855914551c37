"""Services on a real 3-node cluster keep working when the node they are connected to dies, or a queue's leader.

Every broker here is given the address list with node 1 first, so all of them start on node 1. Messages are
published confirmed in a steady stream while the fault happens; afterwards every confirmed message must have
been consumed, and a message may arrive twice only where it was published twice (its confirm was lost with
the node) or redelivered.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import aio_pika
import pytest

from cluster import Cluster
from contracts.sessions import GetSession
from msgkit import rpc
from msgkit.failover import FailoverBroker
from testkit import eventually

from .services import KitServices, kit_services
from .stream import Stream, quorum_queue

pytestmark = pytest.mark.integration

DRAIN_TIMEOUT = 60.0


def on(broker: FailoverBroker) -> int | None:
    node = broker.connected_node
    return node[1] if node else None


async def keep_writing(services: KitServices, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await services.write_event()
        await asyncio.sleep(0.02)


async def run_through(stream: Stream, fault: Callable[[], None], *, before: int = 100, after: int = 200) -> float:
    """Publish until `before` messages are confirmed, inject the fault (a blocking call, in a thread), publish
    until `after` more are confirmed; returns when the fault was injected."""
    stream.start_publishing()
    await eventually(lambda: _true(len(stream.confirmed) >= before), timeout=30, what="publishing to start")
    fault_at = time.monotonic()
    await asyncio.to_thread(fault)
    await eventually(
        lambda: _true(stream.confirmed_after(fault_at) >= after), timeout=60, what="publishing to go on after the fault"
    )
    await stream.stop_publishing()
    return fault_at


async def _true(value: bool) -> bool:
    return value


async def drained(stream: Stream) -> None:
    await eventually(
        lambda: _true(set(stream.confirmed) <= stream.consumed()),
        timeout=DRAIN_TIMEOUT,
        what="every confirmed message to be consumed",
    )


async def test_kill_9_of_the_node_everything_is_connected_to_loses_nothing(cluster: Cluster, database_url: str) -> None:
    node1 = cluster.nodes[0]
    addresses = cluster.addresses()
    async with (
        Stream(addresses, f"cluster.kill.{uuid.uuid4().hex[:6]}") as stream,
        # Its publisher only publishes, as an outbox relay does; its consumer starts on node 2 and stays there.
        Stream(addresses, f"cluster.relay.{uuid.uuid4().hex[:6]}", consume_from=cluster.addresses(start=1)) as relay,
        kit_services(database_url, addresses) as services,
    ):
        client = FailoverBroker(addresses, log_level=30)
        await client.connect()
        brokers = [stream.broker, relay.broker, services.producer.broker, services.consumer.broker, client]
        assert [on(b) for b in brokers] == [node1.amqp_port] * 5, "the list starts with node 1"
        # (rabbitmqctl takes seconds: off the event loop, which the brokers' heartbeats need.)
        queues = await asyncio.to_thread(cluster.queues)
        for s in (stream, relay):
            assert queues[s.queue.name]["leader"] == node1.nodename
            assert sorted(queues[s.queue.name]["members"]) == [n.nodename for n in cluster.nodes], "a replica each"
        assert (await rpc.request(client, GetSession(session_id=uuid.uuid4()))).ok

        stop_writing = asyncio.Event()
        writer = asyncio.create_task(keep_writing(services, stop_writing))
        relay.start_publishing()
        fault_at = await run_through(stream, lambda: cluster.kill(node1))
        await eventually(lambda: _true(relay.confirmed_after(fault_at) >= 200), timeout=60, what="the relay stream")
        await relay.stop_publishing()
        stop_writing.set()
        await writer

        for s in (stream, relay):
            await drained(s)
            assert s.unexplained_duplicates() == []
        assert all(on(b) not in (None, node1.amqp_port) for b in brokers), "every broker moved to a live node"
        failover = stream.failover_seconds(fault_at)
        assert failover is not None
        print(
            f"\nkill -9: {stream.summary()}; consumer failover {failover:.2f}s, longest publish gap "
            f"{stream.longest_publish_gap():.2f}s\n  publish-only: {relay.summary()}, longest publish gap "
            f"{relay.longest_publish_gap():.2f}s"
        )

        # The outbox relay re-sent what the dead node had not confirmed; the inbox kept one effect each.
        assert services.written > 0
        await eventually(
            lambda: _seen_all(services), timeout=DRAIN_TIMEOUT, interval=0.2, what="every written event consumed once"
        )
        # Requests and their direct replies work on the new node; the consumers are attached again.
        assert (await rpc.request(client, GetSession(session_id=uuid.uuid4()))).ok
        assert all((await services.consumer.readiness()).values())
        await client.stop()

    # The killed node comes back on its data, rejoins, and its replica catches up with what it missed.
    cluster.start(node1)
    cluster.wait_rejoined(node1)
    rows = {row["Node Name"]: row for row in cluster.wait_in_sync(stream.queue.name)}
    assert rows[node1.nodename]["Raft State"] == "follower"
    assert rows[node1.nodename]["Commit Index"] >= len(stream.deliveries), "it has every message's entry"


async def _seen_all(services: KitServices) -> bool:
    return await services.seen() == services.written and await services.outbox() == 0


async def test_stopping_the_queue_leader_loses_nothing_and_keeps_the_connection(cluster: Cluster) -> None:
    node1, node2 = cluster.nodes[0], cluster.nodes[1]
    queue = f"cluster.leader.{uuid.uuid4().hex[:6]}"
    # Declared through node 2, so node 2 leads it while the consumer is connected to node 1.
    connection = await aio_pika.connect(node2.url())
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(queue, durable=True, arguments=quorum_queue(queue).arguments)
    assert cluster.leader(queue) == node2
    cluster.wait_in_sync(queue)  # before the stream starts: nothing on the loop yet

    async with Stream(cluster.addresses(), queue) as stream:
        assert on(stream.broker) == node1.amqp_port
        fault_at = await run_through(stream, lambda: cluster.stop(node2))
        await drained(stream)
        assert stream.unexplained_duplicates() == []
        assert on(stream.broker) == node1.amqp_port, "a leader elsewhere going away does not drop the connection"
        assert await asyncio.to_thread(cluster.leader, queue) != node2
        failover = stream.failover_seconds(fault_at)
        assert failover is not None
        print(f"\nleader stop: {stream.summary()}; consumer gap {failover:.2f}s")
