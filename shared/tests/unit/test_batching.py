"""The group-commit batcher: what arrives together is handled together, and a bad item fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from msgkit.batching import Batcher

pytestmark = pytest.mark.unit


class Recorder:
    """A batch handler that doubles each item, remembers its batches, and can be held or made to fail."""

    def __init__(self, *, bad: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.started = asyncio.Event()
        self.bad = bad

    async def __call__(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        self.started.set()
        await self.release.wait()
        if self.bad is not None and self.bad in items:
            raise ValueError(f"item {self.bad} is bad")
        return [2 * i for i in items]


async def test_items_submitted_together_share_one_batch_and_get_their_own_results() -> None:
    handler = Recorder()
    batcher: Batcher[int, int] = Batcher(handler, name="t")
    results = await asyncio.gather(*(batcher.submit(i) for i in range(10)))
    assert results == [2 * i for i in range(10)]
    assert handler.batches == [list(range(10))]


async def test_a_lone_item_is_handled_without_waiting_for_company() -> None:
    handler = Recorder()
    batcher: Batcher[int, int] = Batcher(handler, name="t", linger=0.0)
    assert await asyncio.wait_for(batcher.submit(7), timeout=1.0) == 14
    assert handler.batches == [[7]]


async def test_batches_never_exceed_the_maximum() -> None:
    handler = Recorder()
    batcher: Batcher[int, int] = Batcher(handler, name="t", max_size=4)
    await asyncio.gather(*(batcher.submit(i) for i in range(10)))
    assert [len(b) for b in handler.batches] == [4, 4, 2]
    assert sorted(i for b in handler.batches for i in b) == list(range(10))


async def test_weighty_items_fill_a_batch_sooner_and_an_overweight_one_goes_alone() -> None:
    handler = Recorder()
    batcher: Batcher[int, int] = Batcher(handler, name="t", max_size=10, weight=lambda i: i)
    await asyncio.gather(*(batcher.submit(i) for i in (4, 5, 3, 20, 1)))
    assert handler.batches == [[4, 5], [3], [20], [1]]


async def test_items_submitted_while_a_batch_commits_go_in_the_next_batch() -> None:
    handler = Recorder()
    handler.release.clear()
    batcher: Batcher[int, int] = Batcher(handler, name="t", linger=0.0)
    first = asyncio.create_task(batcher.submit(1))
    await asyncio.wait_for(handler.started.wait(), timeout=1.0)
    later = [asyncio.create_task(batcher.submit(i)) for i in (2, 3, 4)]
    await asyncio.sleep(0)
    handler.release.set()
    assert await first == 2
    assert [await t for t in later] == [4, 6, 8]
    assert handler.batches == [[1], [2, 3, 4]]


async def test_a_failing_batch_is_retried_one_by_one_so_only_the_bad_item_fails() -> None:
    handler = Recorder(bad=3)
    batcher: Batcher[int, int] = Batcher(handler, name="t")
    results = await asyncio.gather(*(batcher.submit(i) for i in range(5)), return_exceptions=True)
    assert results[:3] == [0, 2, 4] and results[4] == 8
    assert isinstance(results[3], ValueError)
    assert handler.batches == [[0, 1, 2, 3, 4], [0], [1], [2], [3], [4]]


async def test_a_cancelled_submitter_does_not_stop_its_batch() -> None:
    handler = Recorder()
    handler.release.clear()
    batcher: Batcher[int, int] = Batcher(handler, name="t", linger=0.0)
    gone = asyncio.create_task(batcher.submit(1))
    kept = asyncio.create_task(batcher.submit(2))
    await asyncio.wait_for(handler.started.wait(), timeout=1.0)
    gone.cancel()
    handler.release.set()
    assert await kept == 4
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert handler.batches == [[1, 2]]


async def test_a_handler_returning_the_wrong_number_of_results_fails_every_item() -> None:
    async def short(items: Sequence[int]) -> list[int]:
        return [0]

    batcher: Batcher[int, int] = Batcher(short, name="t")
    results = await asyncio.gather(batcher.submit(1), batcher.submit(2), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)


async def test_drain_waits_for_everything_submitted() -> None:
    handler = Recorder()
    handler.release.clear()
    batcher: Batcher[int, int] = Batcher(handler, name="t", linger=0.0)
    tasks = [asyncio.create_task(batcher.submit(i)) for i in range(3)]
    await asyncio.sleep(0)
    draining = asyncio.create_task(batcher.drain())
    await asyncio.sleep(0)
    assert not draining.done()
    handler.release.set()
    await asyncio.wait_for(draining, timeout=1.0)
    assert all(t.done() for t in tasks)
