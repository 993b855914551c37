"""Operators' view of dead letters: counts per queue, the messages with their reasons, and replay."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import aio_pika
import typer
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage, AbstractQueue
from aiormq.exceptions import ChannelAccessRefused

from clinics_cli import letters, output
from clinics_cli.client import (
    CONNECT_TIMEOUT,
    EXIT_REFUSED,
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
from msgkit.senders import ORIGINAL_SENDER_HEADER, connection_user

app = typer.Typer(help="Inspect and replay dead-lettered messages.", no_args_is_help=True)

T = TypeVar("T")
REASON_HEADER = letters.REASON_HEADER
# Seconds to wait for the broker to confirm one replayed letter.
PUBLISH_TIMEOUT = 30.0
OPERATORS_ONLY = "access refused: dead letters are for operators; set CLINICS_RABBITMQ_URL to an operator's broker URL"
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
    url = options.operator_url
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


async def peek(queue_name: str, limit: int, *, body: bool) -> list[dict[str, Any]]:
    async with connection() as conn:
        channel = await conn.channel()
        queue = await _queue(channel, queue_name)
        rows = []
        for _ in range(limit):
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                break
            rows.append(letters.describe(message, with_body=body))
        # Closing without acking returns every peeked message to the queue.
        return rows


def original_sender(message: AbstractIncomingMessage, binding: topology.Binding, operator: str) -> str:
    """Who first sent a dead letter, as far as the broker vouches for it.

    A letter the consuming service (or an earlier replay, by this operator) dead-lettered says so in its
    header; one the broker dead-lettered (delivery limit) keeps its sender's own user_id; one published
    straight into the dead-letter queue is its publisher's.
    """
    headers = message.headers or {}
    said = headers.get(ORIGINAL_SENDER_HEADER)
    if message.user_id in (binding.consumer, operator) and said is not None:
        return said.decode(errors="replace") if isinstance(said, bytes) else str(said)
    return message.user_id or ""


def _again(message: AbstractIncomingMessage, *, operator: str, original: str) -> aio_pika.Message:
    """The letter as it was published, without the marks of its dead-lettering.

    Sent as the operator (user_id: the broker refuses any but the publisher's own), saying whose it was: the
    consumer accepts it only if that original sender is one it accepts (msgkit.senders), so a replay cannot
    launder a message from a sender the queue refuses. Not its expiration (which may have passed while it
    waited in the dead-letter queue).
    """
    headers = {k: v for k, v in (message.headers or {}).items() if k not in DEATH_HEADERS}
    headers["x-replayed-at"] = datetime.now(UTC).isoformat()
    headers[ORIGINAL_SENDER_HEADER] = original
    return aio_pika.Message(
        message.body, headers=headers, content_type=message.content_type, user_id=operator,
        content_encoding=message.content_encoding, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        priority=message.priority, correlation_id=message.correlation_id, reply_to=message.reply_to,
        message_id=message.message_id, timestamp=message.timestamp, type=message.type, app_id=message.app_id,
    )  # fmt: skip


async def replay(binding: topology.Binding, limit: int) -> dict[str, Any]:
    """Send dead letters back to the one queue that failed them, each confirmed before it is removed.

    A letter the broker does not take back (nacked, returned, not confirmed in time) is reported and stays
    where it is: unacked until the end, so that the next `get` moves on, then returned to the queue.
    """
    replayed: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    operator = connection_user(options.operator_url)
    async with connection() as conn:
        channel = await conn.channel(publisher_confirms=True, on_return_raises=True)
        queue = await _queue(channel, binding.dead_letter_queue)
        await _queue(channel, binding.queue)
        while len(replayed) + len(failed) < limit and not channel.is_closed:
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                break
            letter = {"message_id": letters.text_of(message.message_id), "type": letters.describe_type(message)}
            error = await _send_back(channel, message, binding.queue, operator=operator)
            if error is None:
                await message.ack()
                replayed.append(letter)
            else:
                failed.append({**letter, "error": error})
    return {"queue": binding.dead_letter_queue, "to": binding.queue, "replayed": replayed, "failed": failed}


async def _send_back(
    channel: AbstractChannel, message: AbstractIncomingMessage, queue: str, *, operator: str = "guest"
) -> str | None:
    """Why the letter could not be published again, or None once the broker has confirmed it."""
    try:
        # The default exchange routes by queue name: only the consumer that failed sees it again.
        # A letter's original sender is judged against the queue it failed on.
        binding = next(b for b in topology.all_bindings() if b.queue == queue)
        again = _again(message, operator=operator, original=original_sender(message, binding, operator))
        await channel.default_exchange.publish(again, routing_key=queue, mandatory=True, timeout=PUBLISH_TIMEOUT)
    except aio_pika.exceptions.PublishError:
        return f"returned by the broker: nothing routes to {queue}"
    except aio_pika.exceptions.DeliveryError:
        return f"refused by the broker (nack): is {queue} full or without a quorum?"
    except TimeoutError:
        return f"not confirmed within {PUBLISH_TIMEOUT:g}s"
    except (aio_pika.exceptions.AMQPError, aio_pika.exceptions.ChannelInvalidStateError, ValueError, TypeError) as exc:
        # A property or header the client cannot encode again, or a channel the broker closed over it.
        return f"cannot be published again: {type(exc).__name__}: {exc}"
    return None


def _run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    try:
        try:
            return run_briefly(work())
        except ChannelAccessRefused:
            # Staff's own broker user may not read dead letters: only an operator may (docs/security.md).
            raise CliError(OPERATORS_ONLY, EXIT_UNREACHABLE) from None
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
    rows = _run(lambda: peek(name, limit, body=body))
    if options.json:
        output.write_json(rows)
    else:
        output.table([letters.table_row(row) for row in rows], title=name)


@app.command("replay")
def replay_command(queue: Queue, limit: Limit = 100) -> None:
    """Send dead letters back to the queue that failed them (after fixing the cause).

    Exits 1 if any could not be sent back: those stay in the dead-letter queue, each listed with why.
    """
    binding = _resolve(queue)
    outcome = _run(lambda: replay(binding, limit))
    replayed, failed = outcome["replayed"], outcome["failed"]
    if options.json:
        output.write_json(outcome)
    else:
        if failed:
            output.table(failed, title=f"not replayed (still in {binding.dead_letter_queue})")
        total = len(replayed) + len(failed)
        output.say(
            f"replayed {len(replayed)} of {total} message(s) from {binding.dead_letter_queue} to {binding.queue}"
        )
    if failed:
        raise typer.Exit(EXIT_REFUSED)
