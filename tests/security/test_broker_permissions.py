"""Each service's RabbitMQ user may touch only its own queues and the exchanges it publishes to.

The permissions are regular expressions built from contracts.topology by clinics_admin.bootstrap; the unit
tests check them against every resource of the topology, and the integration tests connect as each
service's user to a vhost bootstrap set up and try what another service would.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from aiormq.exceptions import ChannelAccessRefused

from clinics_admin.bootstrap import DEFAULT_EXCHANGE, broker_permissions, published_exchanges, service_amqp_url
from contracts import topology
from contracts.topology import SERVICES
from testkit import eventually

OTHER_PAIRS = [(s, o) for s in SERVICES for o in SERVICES if s != o]


def queues_of(service: str) -> set[str]:
    return {b.queue for b in topology.bindings(service)} | {b.dead_letter_queue for b in topology.bindings(service)}


def exchanges_of(service: str) -> set[str]:
    """Exchanges a service owns: those it publishes to, its requests exchange and its dead-letter exchange."""
    owned = published_exchanges(service) | {topology.dead_letter_exchange(service)}
    return owned | ({topology.requests_exchange(service)} if topology.ANSWERS[service] else set())


def allowed(pattern: str, name: str) -> bool:
    return re.search(pattern, name) is not None  # RabbitMQ matches permissions with re:run (a search)


# --- the regexes, against every resource of the topology ------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(("service", "other"), OTHER_PAIRS)
def test_no_permission_reaches_another_services_queues(service: str, other: str) -> None:
    p = broker_permissions(service)
    for queue in queues_of(other):
        assert not allowed(p.configure, queue), queue
        assert not allowed(p.write, queue), queue
        assert not allowed(p.read, queue), queue


@pytest.mark.unit
@pytest.mark.parametrize(("service", "other"), OTHER_PAIRS)
def test_a_service_may_not_publish_to_or_configure_another_services_exchanges(service: str, other: str) -> None:
    p = broker_permissions(service)
    for exchange in exchanges_of(other):
        assert not allowed(p.configure, exchange), exchange
        assert not allowed(p.write, exchange), exchange


@pytest.mark.unit
@pytest.mark.parametrize("service", SERVICES)
def test_a_service_may_use_its_own_queues_and_the_exchanges_it_publishes_to(service: str) -> None:
    p = broker_permissions(service)
    for queue in queues_of(service):
        assert allowed(p.configure, queue) and allowed(p.read, queue) and allowed(p.write, queue), queue
    for exchange in published_exchanges(service) | {topology.dead_letter_exchange(service), DEFAULT_EXCHANGE}:
        assert allowed(p.write, exchange), exchange
    # Binding its queues needs read on the exchanges they are bound to, and only those.
    readable_exchanges = {b.exchange for b in topology.bindings(service)} | {topology.dead_letter_exchange(service)}
    every_exchange = set().union(*(exchanges_of(s) for s in SERVICES))
    assert {e for e in every_exchange if allowed(p.read, e)} == readable_exchanges


@pytest.mark.unit
@pytest.mark.parametrize("service", SERVICES)
def test_the_regexes_match_whole_names_only(service: str) -> None:
    p = broker_permissions(service)
    own_queue = next(iter(queues_of(service)))
    for pattern in (p.configure, p.write, p.read):
        assert not allowed(pattern, own_queue + "x") and not allowed(pattern, "x" + own_queue)
        assert not allowed(pattern, "") and not allowed(pattern, ".*")


# --- against RabbitMQ ----------------------------------------------------------------------------------


@pytest.fixture
async def connections(privileged_vhost: str) -> AsyncIterator[dict[str, AbstractConnection]]:
    # Plain connections: a robust one reopens each channel the broker closes on a refusal, and those
    # reopening tasks can outlive the test and stall its event loop's shutdown.
    opened: dict[str, AbstractConnection] = {
        s: await aio_pika.connect(service_amqp_url(privileged_vhost, s)) for s in SERVICES
    }
    try:
        yield opened
    finally:
        for connection in opened.values():
            await connection.close()


async def attempt(connection: AbstractConnection, action: Callable[[AbstractChannel], Awaitable[object]]) -> bool:
    """True if the action is allowed; a refusal closes only the throwaway channel it ran on."""
    channel = await connection.channel()
    try:
        await action(channel)
    except ChannelAccessRefused:
        return False
    finally:
        if not channel.is_closed:
            await channel.close()
    return True


def publish_to(exchange: str, routing_key: str) -> Callable[[AbstractChannel], Awaitable[object]]:
    async def action(channel: AbstractChannel) -> object:
        target = channel.default_exchange if not exchange else await channel.get_exchange(exchange, ensure=False)
        # The channel confirms publishes, so a refusal arrives before the publish returns.
        return await target.publish(aio_pika.Message(b"{}"), routing_key=routing_key, mandatory=False)

    return action


def consume(queue: str) -> Callable[[AbstractChannel], Awaitable[object]]:
    async def action(channel: AbstractChannel) -> object:
        declared = await channel.get_queue(queue, ensure=False)
        return await declared.get(fail=False)

    return action


def declare_queue(queue: str) -> Callable[[AbstractChannel], Awaitable[object]]:
    async def action(channel: AbstractChannel) -> object:
        return await channel.declare_queue(queue, durable=True, arguments={"x-queue-type": "quorum"})

    return action


def declare_exchange(exchange: str) -> Callable[[AbstractChannel], Awaitable[object]]:
    async def action(channel: AbstractChannel) -> object:
        return await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)

    return action


@pytest.mark.integration
async def test_the_cohort_user_may_not_publish_sessions_events_nor_consume_notifys_queue(
    connections: dict[str, AbstractConnection],
) -> None:
    cohort = connections["cohort"]
    team_updated = topology.route_for(topology.CONSUMES["cohort"][0])
    assert team_updated.exchange == "sessions.events"
    assert not await attempt(cohort, publish_to(team_updated.exchange, team_updated.routing_key))
    assert not await attempt(cohort, consume("notify.invite_to_clinic"))
    assert not await attempt(cohort, consume("notify.invite_to_clinic.dlq"))
    # ... while what cohort does for a living is allowed.
    invite = topology.route_for(topology.binding("notify", topology.CONSUMES["notify"][5]).message)
    assert invite.exchange == "cohort.commands"
    assert await attempt(cohort, publish_to(invite.exchange, invite.routing_key))
    assert await attempt(cohort, consume("cohort.team_updated"))


@pytest.mark.integration
@pytest.mark.parametrize(("service", "other"), OTHER_PAIRS)
async def test_no_service_may_publish_another_services_messages(
    connections: dict[str, AbstractConnection], service: str, other: str
) -> None:
    for exchange in sorted(exchanges_of(other)):
        assert not await attempt(connections[service], publish_to(exchange, f"{other}.anything")), exchange
        assert not await attempt(connections[service], declare_exchange(exchange)), exchange


@pytest.mark.integration
@pytest.mark.parametrize(("service", "other"), OTHER_PAIRS)
async def test_no_service_may_consume_or_declare_another_services_queues(
    connections: dict[str, AbstractConnection], service: str, other: str
) -> None:
    sample = sorted(queues_of(other))[:3]
    for queue in sample:
        assert not await attempt(connections[service], consume(queue)), queue
        assert not await attempt(connections[service], declare_queue(queue)), queue


@pytest.mark.integration
@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_may_do_its_own_work(connections: dict[str, AbstractConnection], service: str) -> None:
    connection = connections[service]
    for exchange in sorted(published_exchanges(service)):
        assert await attempt(connection, publish_to(exchange, f"{service}.nothing_bound")), exchange
    for queue in sorted(queues_of(service)):
        assert await attempt(connection, consume(queue)), queue
    # Dead letters go to its own dead-letter exchange; replies to requests go through the default exchange.
    assert await attempt(connection, publish_to(topology.dead_letter_exchange(service), "nowhere"))
    assert await attempt(connection, publish_to("", "nowhere"))


@pytest.mark.integration
@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_user_can_ask_and_answer_over_direct_reply_to(
    connections: dict[str, AbstractConnection], service: str
) -> None:
    """Requests wait on amq.rabbitmq.reply-to; answers go to the default exchange with the reply_to key."""
    own_queue = topology.bindings(service)[0].queue

    async def ask_and_answer(channel: AbstractChannel) -> object:
        answered: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

        async def on_reply(message: AbstractIncomingMessage) -> None:
            answered.set_result(message.body)

        replies = await channel.get_queue("amq.rabbitmq.reply-to", ensure=False)
        await replies.consume(on_reply, no_ack=True)
        await channel.default_exchange.publish(
            aio_pika.Message(b"ping", reply_to="amq.rabbitmq.reply-to"), routing_key=own_queue
        )
        queue = await channel.get_queue(own_queue, ensure=False)
        request = await eventually(lambda: queue.get(fail=False), timeout=10, what="the request")
        assert request is not None
        await request.ack()
        assert request.reply_to and request.reply_to.startswith("amq.rabbitmq.reply-to.")
        await channel.default_exchange.publish(aio_pika.Message(b"pong"), routing_key=request.reply_to)
        return await asyncio.wait_for(answered, timeout=10)

    assert await attempt(connections[service], ask_and_answer)
