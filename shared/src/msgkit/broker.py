"""The broker every service uses, and the queue and exchange objects built from the topology."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aio_pika.abc import SSLOptions
from faststream import AckPolicy
from faststream.message import StreamMessage
from faststream.rabbit import Channel, ExchangeType, RabbitBroker, RabbitExchange, RabbitQueue, RabbitRouter
from faststream.rabbit.schemas.queue import QueueType, QuorumQueueArgs

from contracts import topology
from contracts.envelope import Message
from msgkit.deadletter import DeadLetterPolicy
from msgkit.failover import FailoverBroker
from msgkit.outbox import OutgoingMessage
from msgkit.senders import WRONG_TYPE, Refused
from msgkit.settings import ServiceSettings

PUBLISH_TIMEOUT = 30.0
# Redelivered on error (with back-off in the dead-letter policy); never acked before handling.
ACK_POLICY = AckPolicy.NACK_ON_ERROR
# For subscribers of bulk messages (up to 1,000 children, ~0.3 MB each): the default prefetch would
# buffer dozens of them per queue. Two in flight keep the consumer busy; more only add to peak RSS.
BULK = Channel(prefetch_count=2)
# For subscribers that hand their messages to a msgkit.batching.Batcher: enough deliveries in flight to
# fill a batch while the last one commits (small events, so a few hundred cost little memory).
GROUPED = Channel(prefetch_count=256)
# The same for batched events (up to a thousand entries each): fewer in flight, for memory.
GROUPED_BULK = Channel(prefetch_count=16)


def tls_options(settings: ServiceSettings) -> SSLOptions | None:
    """Certificate files for an amqps:// connection (the URL's scheme is what turns TLS on)."""
    options: SSLOptions = {}
    if settings.rabbitmq_ca_file:
        options["cafile"] = settings.rabbitmq_ca_file
    if settings.rabbitmq_cert_file:
        options["certfile"] = settings.rabbitmq_cert_file
    if settings.rabbitmq_key_file:
        options["keyfile"] = settings.rabbitmq_key_file
    return options or None


def make_broker(
    addresses: str,
    *,
    service: str,
    prefetch_count: int,
    graceful_timeout: float,
    ssl_options: SSLOptions | None = None,
    dead_letters: DeadLetterPolicy | None = None,
) -> FailoverBroker:
    """The service's broker on `addresses`: one AMQP URL, or a cluster's nodes (see msgkit.addresses); every
    reconnect goes to the next node, so the service keeps working when the node it is on dies."""
    broker = FailoverBroker(
        addresses,
        ssl_options=ssl_options,
        ack_policy=ACK_POLICY,
        # Unroutable publishes raise instead of silently resolving; qos bounds in-flight work.
        default_channel=Channel(prefetch_count=prefetch_count, on_return_raises=True),
        graceful_timeout=graceful_timeout,
        reconnect_interval=1.0,
        # Each message's "Received"/"Processed" lines at DEBUG: two lines per message per service is noise
        # at 100,000 children, and formatting them cost CPU on every hop. Failures are still logged at ERROR.
        log_level=logging.DEBUG,
    )
    policy = dead_letters or DeadLetterPolicy(service)
    policy.broker = broker
    broker.add_middleware(policy)
    return broker


def make_router() -> RabbitRouter:
    """A router whose subscribers nack on error. FastStream 0.7.8 does not pass the broker's ack policy
    down to an included router's subscribers: they fall back to REJECT_ON_ERROR, which dead-letters a
    message at its first transient failure (a database restart) instead of retrying it."""
    return RabbitRouter(ack_policy=ACK_POLICY)


def declare_publishers(router: RabbitRouter, service: str) -> None:
    """Declare on `router` what `service` publishes, so its AsyncAPI document lists every message (the outbox
    relay sends them; these publishers are never called)."""
    for message in topology.published_by(service):
        route = topology.route_for(message)
        router.publisher(
            exchange=exchange(route.exchange, route.exchange_type),
            routing_key=route.routing_key,
            persist=True,
            schema=message,
            title=f"{route.routing_key}:publish",
            description=message.__doc__,
        )


def exchange(name: str, kind: str = "topic") -> RabbitExchange:
    return RabbitExchange(name, type=ExchangeType.DIRECT if kind == "direct" else ExchangeType.TOPIC, durable=True)


def subscription(consumer: str, message: type[Message], *, read_as: type[Message] | None = None) -> dict[str, Any]:
    """Queue, exchange and decoder for `@router.subscriber(**subscription("notify", InviteToClinic))`.

    `read_as` decodes the body as a cheaper reading of `message` (contracts.bulk) for a consumer that
    only copies its items; the handler then takes that type.
    """
    b = topology.binding(consumer, message)
    arguments: QuorumQueueArgs = {
        "x-dead-letter-exchange": b.dead_letter_exchange,
        "x-dead-letter-routing-key": b.queue,
        "x-delivery-limit": topology.DELIVERY_LIMIT,
    }
    queue = RabbitQueue(
        b.queue, queue_type=QueueType.QUORUM, durable=True, routing_key=b.routing_key, arguments=arguments
    )
    # Opened, not declared: the exchange is another service's (or declared before the subscribers start),
    # and declaring it would need configure permission on it.
    source = RabbitExchange(
        b.exchange,
        type=ExchangeType.DIRECT if b.exchange_type == "direct" else ExchangeType.TOPIC,
        durable=True,
        declare=False,
    )
    return {"queue": queue, "exchange": source, "decoder": decoder_for(read_as or message, contract=message)}


def decoder_for(
    message: type[Message], *, contract: type[Message] | None = None
) -> Callable[[StreamMessage[Any]], Awaitable[Message]]:
    """Parse the body straight into the message's model with pydantic's JSON parser.

    FastStream's default is json.loads into dicts, then validation of those dicts into the model: about
    1.6 times the CPU for a 1,000-child ChildrenUpserted (32 ms against 19.5 ms here). A body that is not
    valid JSON or not the message fails the same way, as a ValidationError, and is dead-lettered. So does
    one whose envelope `type` is missing or names another message (`contract`, the queue's, when `message`
    is a cheaper reading of it), though its fields fit: a queue acts only on its own message.
    """
    expected = (contract or message).__name__

    async def decode(msg: StreamMessage[Any]) -> Message:
        decoded = message.model_validate_json(msg.body)
        if decoded.type != expected or "type" not in decoded.model_fields_set:  # missing or another message
            raise Refused(WRONG_TYPE)
        return decoded

    return decode


async def declare_topology(broker: RabbitBroker, service: str, *, others: bool = True) -> None:
    """Declare, before the subscribers start, the exchanges and dead letters this service owns.

    With `others` (a user allowed to configure everything: development and in-process tests) it also
    declares what it touches of other services: the exchanges it consumes from and the consumers' queues
    of what it publishes, so start order can never leave an event unroutable. Under least privilege
    (`<SERVICE>_DECLARE_TOPOLOGY=false`) `python -m clinics_admin.bootstrap` has declared those as an admin step,
    and the service may not configure them.
    """
    for name, kind in sorted(_owned_exchanges(service)):
        await broker.declare_exchange(exchange(name, kind))
    for b in topology.bindings(service):
        await _declare_dead_letters(broker, b)
    if not others:
        return
    for b in topology.bindings(service):
        await broker.declare_exchange(exchange(b.exchange, b.exchange_type))
    for message in topology.published_by(service):
        for b in topology.all_bindings():
            if b.message is message:
                await _declare_binding(broker, b)


async def declare_all(broker: RabbitBroker) -> None:
    """Every exchange, queue, binding and dead-letter queue of every service (the admin step)."""
    for service in topology.SERVICES:
        for name, kind in sorted(_owned_exchanges(service)):
            await broker.declare_exchange(exchange(name, kind))
    for b in topology.all_bindings():
        await _declare_binding(broker, b)


def _owned_exchanges(service: str) -> set[tuple[str, str]]:
    owned = {(topology.dead_letter_exchange(service), "direct")}
    for message in topology.published_by(service):
        route = topology.route_for(message)
        owned.add((route.exchange, route.exchange_type))
    if topology.ANSWERS[service]:
        owned.add((topology.requests_exchange(service), "direct"))
    return owned


async def _declare_binding(broker: RabbitBroker, b: topology.Binding) -> None:
    declared = await broker.declare_queue(subscription(b.consumer, b.message)["queue"])
    await declared.bind(await broker.declare_exchange(exchange(b.exchange, b.exchange_type)), routing_key=b.routing_key)
    await _declare_dead_letters(broker, b)


async def _declare_dead_letters(broker: RabbitBroker, b: topology.Binding) -> None:
    dlx = await broker.declare_exchange(exchange(b.dead_letter_exchange, "direct"))
    dlq = await broker.declare_queue(RabbitQueue(b.dead_letter_queue, queue_type=QueueType.QUORUM, durable=True))
    await dlq.bind(dlx, routing_key=b.queue)


def relay_publisher(broker: RabbitBroker):  # type: ignore[no-untyped-def]
    """The outbox relay's publish: persistent, confirmed, mandatory, message_id = outbox id."""

    async def publish(message: OutgoingMessage) -> None:
        await broker.publish(
            message.body,
            exchange=message.exchange,
            routing_key=message.routing_key,
            message_id=message.message_id,
            correlation_id=message.correlation_id,
            message_type=message.message_type,
            content_type="application/json",
            persist=True,
            mandatory=True,
            timeout=PUBLISH_TIMEOUT,
        )

    return publish
