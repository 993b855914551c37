"""Group commit: work that arrives together (deliveries of one queue, HTTP callbacks) shares one transaction.

A consumer of a high-volume event costs a transaction per message: a commit (an fsync) and a few
statements' worth of Python, ~25-50 events/s when the machine is busy. A `Batcher` gathers what is
submitted while the previous batch commits and hands it to one call, so the cost of a transaction is
shared by up to `max_size` items while a lone item still goes at once (after `linger`).

Each submitter waits until its own item's batch has committed and gets that batch's outcome, so a
consumer still acks only after commit and its inbox claim (made per message inside the batch) still
makes a redelivery a no-op. When a batch fails, its items are tried again one by one, so one bad item
fails alone and the rest commit: the per-message retry and dead-letter policy is unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from msgkit import metrics

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Deliveries that arrive in one socket read reach `submit` over the next few loop iterations (each goes
# through the broker's middlewares and decoding first); a couple of milliseconds gathers them.
LINGER = 0.002


class Batcher(Generic[T, R]):
    """Calls `handle(items)` for batches of submitted items; `submit` returns the item's result.

    `handle` returns one result per item, in order. One batch runs at a time: while it commits, the
    next gathers. A batch holds items up to `max_size` in total `weight` (one each by default; a
    batched event of a thousand entries can weigh a thousand), and always at least one item.
    """

    def __init__(
        self,
        handle: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        *,
        name: str,
        max_size: int = 500,
        weight: Callable[[T], int] = lambda _: 1,
        linger: float = LINGER,
    ) -> None:
        self._handle = handle
        self.name = name
        self.max_size = max_size
        self._weight = weight
        self._linger = linger
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Wait until `item` is handled (committed) and return its result, or raise its error."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"batcher-{self.name}")
        # The batch goes on if this submitter is cancelled (its item may still commit: a redelivery of
        # it is then a duplicate its inbox claim ignores).
        return await asyncio.shield(future)

    async def drain(self) -> None:
        """Wait until everything submitted so far is handled (at shutdown)."""
        while self._task is not None:
            await asyncio.shield(self._task)

    async def _run(self) -> None:
        # No await between the loop's last look at `_pending` and clearing `_task`, so an item submitted
        # meanwhile always finds either this loop still running or no task (and starts one).
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            await asyncio.sleep(self._linger)
            while self._pending:
                batch, self._pending = self._next_batch()
                await self._settle(batch)
                batch = []
        except asyncio.CancelledError:
            for _, future in batch + self._pending:
                future.cancel()
            self._pending = []
            raise
        finally:
            self._task = None

    def _next_batch(self) -> tuple[list[tuple[T, asyncio.Future[R]]], list[tuple[T, asyncio.Future[R]]]]:
        total, size = 0, 0
        for item, _ in self._pending:
            total += self._weight(item)
            if size and total > self.max_size:
                break
            size += 1
        return self._pending[:size], self._pending[size:]

    async def _settle(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._handle([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _fail(batch[0][1], exc)
                return
            log.warning(
                "batch failed; handling its items one by one",
                exc_info=True,
                extra={"batcher": self.name, "size": len(batch)},
            )
            for one in batch:
                await self._settle([one])
            return
        if len(results) != len(batch):
            error = RuntimeError(f"{self.name}: {len(results)} results for {len(batch)} items")
            for _, future in batch:
                _fail(future, error)
            return
        metrics.BATCH_SIZE.labels(self.name).observe(len(batch))
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


def _fail(future: asyncio.Future[R], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        future.exception()  # retrieved, so a submitter cancelled meanwhile leaves no "never retrieved" warning
