"""Request–reply over RabbitMQ with a timeout: the staff-facing commands and queries."""

from __future__ import annotations

import asyncio
import logging
import time

from aiormq.exceptions import ChannelInvalidStateError
from faststream.rabbit import RabbitBroker

from contracts import topology
from contracts.envelope import Message, Reply
from msgkit.broker import exchange

log = logging.getLogger(__name__)

# After a broker node dies, a request can find the channel closed while aio-pika is still reopening it on
# the next node. Nothing has been sent then (aiormq refuses before writing a frame), so trying again is safe.
RETRY_FIRST_DELAY = 0.05
RETRY_MAX_DELAY = 1.0


class RequestTimeout(Exception):
    """No reply arrived in time: the service is down or overloaded."""


async def request(broker: RabbitBroker, message: Message, *, timeout: float = 10.0) -> Reply:
    """Send a request to the service that answers it and wait for its `Reply`."""
    route = topology.request_route(type(message))
    deadline = time.monotonic() + timeout
    delay = RETRY_FIRST_DELAY
    while True:
        try:
            response = await broker.request(
                message.model_dump_json().encode(),
                exchange=exchange(route.exchange, route.exchange_type),
                routing_key=route.routing_key,
                correlation_id=str(message.message_id),
                message_id=str(message.message_id),
                content_type="application/json",
                timeout=max(deadline - time.monotonic(), 0.001),
                persist=True,
            )
        except TimeoutError as exc:
            raise RequestTimeout(f"no reply to {type(message).__name__} within {timeout:g}s") from exc
        except ChannelInvalidStateError:
            if time.monotonic() + delay >= deadline:
                raise RequestTimeout(
                    f"no open channel to the broker for {type(message).__name__} within {timeout:g}s"
                ) from None
            log.info("the broker channel is being reopened; sending the request again shortly")
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_DELAY)
            continue
        return Reply.model_validate_json(response.body)
