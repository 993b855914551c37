"""Operators' view of dead letters: counts per queue, the messages with their reasons, and replay."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import aio_pika
import typer
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage, AbstractQueue

from clinics_cli import output
from clinics_cli.client import (
    CONNECT_TIMEOUT,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    CliError,
    connect_failure,
    run_briefly,
    safe_url,
)
from clinics_cli.runner import options, report
from contracts import topology
from msgkit.addresses import AddressError
from msgkit.failover import connect_first

app = typer.Typer(help="Inspect and replay dead-lettered messages.", no_args_is_help=True)

T = TypeVar("T")
# The header msgkit.deadletter writes with why it dead-lettered a message (its import would load the kit).
REASON_HEADER = "x-death-reason"
Service = Annotated[str | None, typer.Option("--service", help="Only this service's queues.")]
Queue = Annotated[str, typer.Argument(help="A dead-letter queue, e.g. cohort.team_updated.dlq (.dlq optional).")]
Limit = Annotated[int, typer.Option(min=1, help="At most this many messages.")]
# Headers a dead-lettering adds; a replayed message starts clean so its retries are counted afresh.
DEATH_HEADERS = (REASON_HEADER, "x-dead-lettered-at", "x-death", "x-delivery-count", "x-first-death-exchange",
                 "x-first-death-queue", "x-first-death-reason", "x-last-death-exchange", "x-last-death-queue",
                 "x-last-death-reason", "x-original-exchange", "x-original-routing-key")  # fmt: skip


def dead_letter_queue(name: str) -> topology.Binding:
    """The binding whose dead-letter queue `name` is (with or without `.dlq`); bad usage otherwise."""
    wanted = name if name.endswith(".dlq") else f"{name}.dlq"
    for b in topology.all_bindings():
        if b.dead_letter_queue == wanted:
            return b
    raise CliError(f"{name} is not a dead-letter queue of any service (see `clinics dead-letters list`)", EXIT_USAGE)


@asynccontextmanager
async def connection() -> AsyncIterator[AbstractConnection]:
    url = options.broker_url
    try:
        # Not robust: a one-shot command should fail and say so, not reconnect in the background.
        connected = await connect_first(url, timeout=CONNECT_TIMEOUT)
    except AddressError as exc:
        raise CliError(f"bad RabbitMQ address list: {exc}", EXIT_USAGE) from None
    except Exception as exc:
        raise CliError(f"cannot reach RabbitMQ at {safe_url(url)}: {connect_failure(exc)}", EXIT_UNREACHABLE) from exc
    async with connected:
        yield connected


async def _queue(channel: AbstractChannel, name: str) -> AbstractQueue:
    try:
        return await channel.declare_queue(name, passive=True)
    except aio_pika.exceptions.ChannelClosed as exc:
        raise CliError(f"{name} does not exist yet: its service has never started on this broker", EXIT_USAGE) from exc


async def counts(service: str | None) -> list[dict[str, Any]]:
    async with connection() as conn:
        channel = await conn.channel()
        rows = []
        for b in topology.all_bindings():
            if service and b.consumer != service:
                continue
            try:
                queue = await channel.declare_queue(b.dead_letter_queue, passive=True)
            except aio_pika.exceptions.ChannelClosed:
                channel = await conn.channel()
                continue  # not declared yet: that service has never started
            count = queue.declaration_result.message_count or 0
            if count:
                rows.append({"queue": b.dead_letter_queue, "service": b.consumer, "messages": count})
        return rows


def _describe(message: AbstractIncomingMessage, *, body: bool) -> dict[str, Any]:
    headers = message.headers or {}
    row = {
        "message_id": message.message_id,
        "type": message.type or _type_in(message.body),
        "reason": str(headers.get(REASON_HEADER) or _broker_reason(headers)),
        "dead_lettered_at": str(headers.get("x-dead-lettered-at", "")),
    }
    if body:
        row["body"] = message.body.decode("utf-8", errors="replace")
    return row


def _type_in(body: bytes) -> str:
    try:
        decoded = json.loads(body)
    except ValueError:
        return "(not JSON)"
    return str(decoded.get("type", "")) if isinstance(decoded, dict) else ""


def _broker_reason(headers: dict[str, Any]) -> str:
    deaths = headers.get("x-death") or []
    return f"broker: {deaths[0].get('reason')}" if deaths else "unknown"


async def peek(queue_name: str, limit: int, *, body: bool) -> list[dict[str, Any]]:
    async with connection() as conn:
        channel = await conn.channel()
        queue = await _queue(channel, queue_name)
        rows = []
        for _ in range(limit):
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                break
            rows.append(_describe(message, body=body))
        # Closing without acking returns every peeked message to the queue.
        return rows


async def replay(binding: topology.Binding, limit: int) -> list[dict[str, Any]]:
    """Send dead letters back to the one queue that failed them, each confirmed before it is removed."""
    replayed = []
    async with connection() as conn:
        channel = await conn.channel(publisher_confirms=True)
        queue = await _queue(channel, binding.dead_letter_queue)
        await _queue(channel, binding.queue)
        for _ in range(limit):
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                break
            headers = {k: v for k, v in (message.headers or {}).items() if k not in DEATH_HEADERS}
            headers["x-replayed-at"] = datetime.now(UTC).isoformat()
            # The default exchange routes by queue name: only the consumer that failed sees it again.
            await channel.default_exchange.publish(
                aio_pika.Message(
                    message.body,
                    headers=headers,
                    message_id=message.message_id,
                    correlation_id=message.correlation_id,
                    content_type=message.content_type,
                    type=message.type,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=binding.queue,
                mandatory=True,
            )
            await message.ack()
            replayed.append({"message_id": message.message_id, "type": message.type or _type_in(message.body)})
    return replayed


def _run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    try:
        return run_briefly(work())
    except CliError as exc:
        report(exc)
        raise typer.Exit(exc.exit_code) from None


def _resolve(queue: str) -> topology.Binding:
    try:
        return dead_letter_queue(queue)
    except CliError as exc:
        report(exc)
        raise typer.Exit(exc.exit_code) from None


def _emit(rows: list[dict[str, Any]], title: str) -> None:
    if options.json:
        output.write_json(rows)
    else:
        output.table(rows, title=title)


@app.command("list")
def list_counts(service: Service = None) -> None:
    """Dead-letter queues that hold messages, and how many."""
    if service and service not in topology.SERVICES:
        report(CliError(f"unknown service {service!r}; one of {', '.join(topology.SERVICES)}", EXIT_USAGE))
        raise typer.Exit(EXIT_USAGE)
    _emit(_run(lambda: counts(service)), "dead letters")


@app.command("show")
def show(
    queue: Queue,
    limit: Limit = 20,
    body: Annotated[bool, typer.Option("--body", help="Include each message's body.")] = False,
) -> None:
    """The first messages of a dead-letter queue and why they are there (they stay in the queue)."""
    name = _resolve(queue).dead_letter_queue
    _emit(_run(lambda: peek(name, limit, body=body)), name)


@app.command("replay")
def replay_command(queue: Queue, limit: Limit = 100) -> None:
    """Send dead letters back to the queue that failed them (after fixing the cause)."""
    binding = _resolve(queue)
    replayed = _run(lambda: replay(binding, limit))
    if options.json:
        output.write_json({"queue": binding.dead_letter_queue, "to": binding.queue, "replayed": replayed})
    else:
        output.say(f"replayed {len(replayed)} message(s) from {binding.dead_letter_queue} to {binding.queue}")
