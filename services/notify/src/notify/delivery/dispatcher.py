"""The dispatcher every replica runs: expands due invitations and keeps up to N provider calls in flight.

Expanding an invitation claims, in the same transaction, those of its notifications that may go now
(sending window, rate limit, daily limits, free call slots); the send loop claims the rest and retries.
The InviteToClinic use case has it expand, through its unit of work (`send_now`), what its transaction
has just made due, in that transaction: a due-now invitation reaches the provider without waiting for
the expand loop.

It is woken in-process when a commit makes work due, and polls as a fallback for work other
replicas committed or that became due with time. All claims use FOR UPDATE SKIP LOCKED, so any
number of replicas share the work without sending a notification twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from msgkit.clock import Clock
from notify.delivery import metrics
from notify.delivery.attempt import attempt
from notify.delivery.claim import NOTHING_CLAIMED, Claimed, SendPolicy, claim_sends
from notify.delivery.expand import expand_due, expand_now
from notify.delivery.providers import Provider
from notify.delivery.record import record_attempts
from notify.domain.invitations import Invitation
from notify.domain.notifications import Attempt
from notify.domain.templates import TemplateCatalogue
from notify.domain.timing import BucketShape
from notify.persistence.uow import Due, NotifyUnitOfWork

log = logging.getLogger(__name__)

UowFactory = Callable[[], NotifyUnitOfWork]


@dataclass(frozen=True, slots=True)
class Pace:
    """How much the dispatcher takes on at once and how often it looks (from settings)."""

    batch_size: int  # invitations or notifications one claim takes at most
    max_in_flight: int  # provider calls started and not yet recorded
    poll_interval: float  # seconds between looks when nothing wakes it
    stale_after: timedelta  # a `sending` row this old belongs to a replica that died mid-call
    postpone: timedelta  # how long an invitation waits for its child's or team's details


class Dispatcher:
    def __init__(
        self,
        uow: UowFactory,
        *,
        clock: Clock,
        provider: Provider,
        catalogue: TemplateCatalogue,
        policy: SendPolicy,
        bucket: BucketShape,
        pace: Pace,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._provider = provider
        self._catalogue = catalogue
        self._policy = policy
        self._bucket = bucket
        self._batch_size = pace.batch_size
        self._max_in_flight = pace.max_in_flight
        self._poll = pace.poll_interval
        self._stale_after = pace.stale_after
        self._postpone = pace.postpone
        self._rng = random.Random()
        self._expand_wake = asyncio.Event()
        self._send_wake = asyncio.Event()
        self._slot_free = asyncio.Event()
        self._in_flight = 0
        self._batches: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._stopping = False
        self._swept: tuple[datetime, float] | None = None  # (service clock, monotonic) of the last sweep

    def wake(self, due: Due = Due.INVITATIONS | Due.SENDS) -> None:
        if due & Due.INVITATIONS:
            self._expand_wake.set()
        if due & Due.SENDS:
            self._send_wake.set()

    async def start(self) -> None:
        if self._policy.rate_limited:
            uow = self._uow()
            async with uow:
                await uow.limits.ensure_bucket(self._policy.bucket, self._bucket)
                await uow.commit()
        self._stopping = False
        self._swept = None
        self._loops = [
            asyncio.create_task(self._loop(self._expand_once, self._expand_wake), name="notify-expand"),
            asyncio.create_task(self._loop(self._send_once, self._send_wake), name="notify-send"),
        ]

    async def stop(self) -> None:
        """Stop claiming, then let the calls in flight finish and be recorded."""
        self._stopping = True
        self.wake()
        self._slot_free.set()
        await asyncio.gather(*self._loops, return_exceptions=True)
        while self._batches:  # including any a handler launched while this waited
            await asyncio.gather(*list(self._batches), return_exceptions=True)
        self._loops = []

    async def _loop(self, step: Callable[[], Awaitable[float | None]], wake: asyncio.Event) -> None:
        failures = 0
        while not self._stopping:
            wake.clear()
            try:
                pause = await step()
                failures = 0
            except Exception:
                failures += 1
                log.warning("dispatcher step failed; retrying", exc_info=True, extra={"attempt": failures})
                pause = min(0.1 * 2**failures, 5.0)
            if pause:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=pause)

    async def _expand_once(self) -> float | None:
        now = self._clock.now()
        await self._sweep(now)
        expanded = await expand_due(
            self._uow(),
            now,
            limit=self._batch_size,
            catalogue=self._catalogue,
            postpone=self._postpone,
            policy=self._policy,
            send_limit=self._free_slots(),
        )
        self.launch(expanded.claimed)
        return None if expanded.found >= self._batch_size else self._poll

    async def _sweep(self, now: datetime) -> None:
        """Attempts of a stopped replica are found within a poll interval; not on every wake-up,
        which would put a transaction on the path of every invitation that falls due now."""
        if self._swept is not None and (
            now - self._swept[0] < timedelta(seconds=self._poll) and time.monotonic() - self._swept[1] < self._poll
        ):
            return
        uow = self._uow()
        async with uow:
            recovered = await uow.notifications.recover_stale(now, self._stale_after)
            await uow.commit()
        self._swept = (now, time.monotonic())
        if recovered:
            log.warning("attempts of a stopped replica will be looked up", extra={"count": recovered})
            self._send_wake.set()

    async def _send_once(self) -> float | None:
        limit = self._free_slots()
        if limit <= 0:
            self._slot_free.clear()
            await self._slot_free.wait()
            return None
        claimed = await claim_sends(self._uow(), self._clock.now(), limit=limit, policy=self._policy)
        self.launch(claimed)
        if claimed.wait_seconds:
            return min(claimed.wait_seconds, self._poll)
        return None if claimed.found >= limit else self._poll

    async def send_now(
        self, uow: NotifyUnitOfWork, invitations: Sequence[Invitation], now: datetime
    ) -> Callable[[], None]:
        """Expand (and claim) invitations `uow`'s open transaction made due now, sparing them the expand loop's
        transaction; the call returned launches their sends once `uow` has committed (this is `SendNow`).

        Left to the expand loop when this replica is not sending, or for more invitations than one batch.
        """
        if self._stopping or not self._loops or len(invitations) > self._batch_size:
            uow.due_work(Due.INVITATIONS)
            claimed = NOTHING_CLAIMED
        else:
            claimed = await expand_now(
                uow,
                list(invitations),
                now,
                catalogue=self._catalogue,
                policy=self._policy,
                send_limit=self._free_slots(),
            )
        return lambda: self.launch(claimed)

    def _free_slots(self) -> int:
        """How many more provider calls one claim may start: a batch at most, within max_in_flight."""
        return min(self._batch_size, max(0, self._max_in_flight - self._in_flight))

    def launch(self, claimed: Claimed) -> None:
        """Call the provider for claimed notifications; the calls count against max_in_flight until recorded.

        After stop() has finished they are not called: committed as `sending`, they are looked up once stale.
        """
        if self._stopping and not self._loops:
            log.info(
                "dispatcher stopped: claimed sends left for the stale sweep",
                extra={"count": len(claimed.notifications)},
            )
            return
        if claimed.notifications:
            self._in_flight += len(claimed.notifications)
            task = asyncio.create_task(self._complete(claimed))
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    async def _complete(self, claimed: Claimed) -> None:
        try:
            results: list[Attempt] = await asyncio.gather(
                *(attempt(n, self._provider, self._catalogue) for n in claimed.notifications)
            )
            await self._record(results, claimed.day)
        finally:
            self._in_flight -= len(claimed.notifications)
            self._slot_free.set()

    async def _record(self, results: list[Attempt], granted_on: date | None) -> None:
        for tries in range(1, 6):
            try:
                now = self._clock.now()
                await record_attempts(self._uow(), results, now, self._policy, self._rng, granted_on=granted_on)
                metrics.record(results)
                return
            except Exception:
                # Unrecorded, these stay `sending` and are looked up once stale: never resent blind.
                log.warning("recording send outcomes failed", exc_info=True, extra={"attempt": tries})
                await asyncio.sleep(min(0.2 * 2**tries, 5.0))
