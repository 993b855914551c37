"""Transactional outbox: messages are written with the state change and relayed after commit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts import topology
from contracts.envelope import Message
from msgkit import metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """An outbox row as the relay hands it to the publisher."""

    message_id: str
    message_type: str
    exchange: str
    routing_key: str
    correlation_id: str | None
    body: bytes


Publish = Callable[[OutgoingMessage], Awaitable[None]]
OutboxRow = dict[str, object]


def outbox_row(message: Message) -> OutboxRow:
    route = topology.route_for(type(message))
    return {
        "message_id": message.message_id,
        "message_type": type(message).__name__,
        "exchange": route.exchange,
        "routing_key": route.routing_key,
        "correlation_id": message.correlation_id,
        "body": message.model_dump_json().encode(),
    }


def spliced_row(
    message: type[Message], items_field: str, items_json: str, *, tracing: dict[str, Any] | None = None
) -> OutboxRow:
    """The outbox row of a bulk message whose items are already a JSON array (built by SQL or json.dumps).

    Splicing the array into the envelope skips building, validating and serialising 1,000 models per
    batch; whoever builds the items follows their contract field for field (tests read them back
    through the model).
    """
    envelope = message.model_construct(**{items_field: [], **(tracing or {})})
    row = outbox_row(envelope)
    body = envelope.model_dump_json()
    empty = f'"{items_field}":[]}}'
    if not body.endswith(empty):
        raise RuntimeError(f"{message.__name__} no longer ends with {items_field}")
    row["body"] = f'{body[: -len(empty)]}"{items_field}":{items_json}}}'.encode()
    return row


async def write(session: AsyncSession, outbox: Table, messages: Sequence[Message | OutboxRow]) -> None:
    """Insert `messages` (or ready-made rows) on the caller's transaction; they leave only if it commits."""
    if messages:
        await session.execute(insert(outbox), [m if isinstance(m, dict) else outbox_row(m) for m in messages])


class OutboxRelay:
    """Publishes committed outbox rows, woken on commit and polling as a fallback.

    Rows are claimed with FOR UPDATE SKIP LOCKED so any number of replicas can relay at once;
    a row is deleted only after the broker confirmed it, so a crash re-sends (consumers dedupe).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Table,
        publish: Publish,
        *,
        service: str,
        batch_size: int = 500,
        batch_bytes: int = 4 * 1024 * 1024,
        poll_interval: float = 1.0,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._publish = publish
        self._service = service
        self._batch_size = batch_size
        self._batch_bytes = batch_bytes
        self._poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=f"{self._service}-outbox-relay")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            self._wake.clear()
            try:
                more = await self.relay_batch()
                failures = 0
            except Exception:
                failures += 1
                log.warning("outbox relay failed; retrying", exc_info=True, extra={"attempt": failures})
                # Back off while the broker or database is away, without spinning.
                await self._sleep(min(0.1 * 2 ** min(failures, 6), 5.0))
                continue
            if not more:
                await self._sleep(self._poll_interval)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def relay_batch(self) -> bool:
        """Publish one batch of committed rows; true when more may be waiting.

        A batch is at most `batch_size` rows and, past its first row, `batch_bytes` of bodies: a service
        that writes large batched events (re-timing a team writes a hundred of ~250 KB) would otherwise
        hold hundreds of bodies, and their frames, at once.
        """
        table = self._outbox
        async with self._sessions() as session, session.begin():
            sizes = (
                await session.execute(
                    select(table.c.seq, func.octet_length(table.c.body))
                    .order_by(table.c.seq)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not sizes:
                return False
            chosen = within_budget([(seq, size) for seq, size in sizes], self._batch_bytes)
            rows = (await session.execute(select(table).where(table.c.seq.in_(chosen)).order_by(table.c.seq))).all()
            messages = [
                OutgoingMessage(
                    message_id=str(r.message_id),
                    message_type=r.message_type,
                    exchange=r.exchange,
                    routing_key=r.routing_key,
                    correlation_id=str(r.correlation_id) if r.correlation_id else None,
                    body=r.body,
                )
                for r in rows
            ]
            # Confirms are awaited together: one round of broker fsyncs for the whole batch.
            results = await asyncio.gather(*(self._publish(m) for m in messages), return_exceptions=True)
            done = [r.seq for r, result in zip(rows, results, strict=True) if not isinstance(result, BaseException)]
            if done:
                await session.execute(delete(table).where(table.c.seq.in_(done)))
        metrics.OUTBOX_PUBLISHED.labels(self._service).inc(len(done))
        failed = [result for result in results if isinstance(result, BaseException)]
        if failed:
            # The rest of the batch is out; the failed rows stay and are retried after back-off.
            raise failed[0]
        return len(sizes) == self._batch_size or len(chosen) < len(sizes)


def within_budget(sizes: Sequence[tuple[int, int]], budget: int) -> list[int]:
    """The leading rows (seq, body bytes) whose bodies fit `budget` together; always at least the first."""
    chosen: list[int] = []
    total = 0
    for seq, size in sizes:
        if chosen and total + size > budget:
            break
        chosen.append(seq)
        total += size
    return chosen
