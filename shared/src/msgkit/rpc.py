"""Request–reply over RabbitMQ with a timeout: the staff-facing commands and queries."""

from __future__ import annotations

from faststream.rabbit import RabbitBroker

from contracts import topology
from contracts.envelope import Message, Reply
from msgkit.broker import exchange


class RequestTimeout(Exception):
    """No reply arrived in time: the service is down or overloaded."""


async def request(broker: RabbitBroker, message: Message, *, timeout: float = 10.0) -> Reply:
    """Send a request to the service that answers it and wait for its `Reply`."""
    route = topology.request_route(type(message))
    try:
        response = await broker.request(
            message.model_dump_json().encode(),
            exchange=exchange(route.exchange, route.exchange_type),
            routing_key=route.routing_key,
            correlation_id=str(message.message_id),
            message_id=str(message.message_id),
            content_type="application/json",
            timeout=timeout,
            persist=True,
        )
    except TimeoutError as exc:
        raise RequestTimeout(f"no reply to {type(message).__name__} within {timeout:g}s") from exc
    return Reply.model_validate_json(response.body)
