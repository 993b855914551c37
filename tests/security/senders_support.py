"""Consumers of every queue of the contract built from msgkit alone, and what reached them or their dead letters.

Each service's consumers connect as that service's own broker user (set up by clinics_admin.bootstrap), with
msgkit's subscriptions and dead-letter policy, exactly as the services do; the handlers only record what they
were given. So a test sees what the real check lets through, against the real broker, without the services'
databases.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel

from clinics_admin.bootstrap import service_amqp_url
from contracts import topology
from contracts.envelope import Message, Reply
from msgkit.broker import make_broker, make_router, subscription
from msgkit.deadletter import REASON_HEADER, DeadLetterPolicy
from msgkit.senders import connection_user

from ..badinput.bodies import valid_body


@dataclass
class Seen:
    """What the handlers were given, and what was dead-lettered with which reason, by (queue, message_id)."""

    handled: set[tuple[str, str]] = field(default_factory=set)
    dead: dict[tuple[str, str], str] = field(default_factory=dict)

    async def read_dead_letters(self, channel: AbstractChannel) -> None:
        for b in topology.all_bindings():
            queue = await channel.get_queue(b.dead_letter_queue, ensure=False)
            while (letter := await queue.get(no_ack=True, fail=False)) is not None:
                self.dead[(b.queue, str(letter.message_id))] = str((letter.headers or {}).get(REASON_HEADER))


def _recorder(b: topology.Binding, seen: Seen) -> Callable[[Any], Coroutine[Any, Any, Reply | None]]:
    async def handle(message: Any) -> Reply | None:
        seen.handled.add((b.queue, str(message.message_id)))
        return Reply.success({"queue": b.queue}) if b.is_request else None

    return handle


@asynccontextmanager
async def consumers(admin_url: str, seen: Seen) -> AsyncIterator[None]:
    """Every service's queues consumed as that service's user; the vhost's admin is the operator."""
    async with AsyncExitStack() as stack:
        for service in topology.SERVICES:
            url = service_amqp_url(admin_url, service)
            policy = DeadLetterPolicy(service, operators=(connection_user(admin_url),))
            broker = make_broker(url, service=service, prefetch_count=50, graceful_timeout=2.0, dead_letters=policy)
            router = make_router()
            for b in topology.bindings(service):
                router.subscriber(**subscription(service, b.message))(_recorder(b, seen))
            broker.include_router(router)
            await broker.start()
            stack.push_async_callback(broker.stop)
        yield


def body_of(message: type[Message], **changes: Any) -> tuple[str, bytes]:
    """A valid body of `message` (its fields fit, its type is its own unless changed): its id and bytes."""
    body = valid_body(message) | changes
    return body["message_id"], json.dumps(body).encode()


def amqp_message(body: bytes, message_id: str, *, user_id: str | None, **properties: Any) -> aio_pika.Message:
    return aio_pika.Message(
        body,
        message_id=message_id,
        user_id=user_id,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        **properties,
    )


def reached(exchange: str, routing_key: str, default_queue: str) -> list[topology.Binding]:
    """The queues a publish reaches: by the default exchange one queue, by a contract exchange its bindings."""
    if not exchange:
        return [b for b in topology.all_bindings() if b.queue == default_queue]
    return [b for b in topology.all_bindings() if (b.exchange, b.routing_key) == (exchange, routing_key)]
