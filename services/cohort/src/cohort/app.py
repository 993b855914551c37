"""Composition root of the cohort service: runtime, unit of work, activity batcher, handlers and start-up work."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from faststream.asgi import AsgiFastStream

from cohort import activity
from cohort.config import Settings
from cohort.event_services import record_activity
from cohort.handlers import build_router
from cohort.import_services import abandon_stale_imports, resume_unfinished
from cohort.tables import messaging
from cohort.uow import CohortUnitOfWork
from cohort.wiring import CohortWiring
from msgkit.batching import Batcher
from msgkit.clock import Clock, SystemClock
from msgkit.runtime import Runtime, build_app

log = logging.getLogger(__name__)

# Activity entries per transaction: a few thousand rows commit in tens of milliseconds.
ACTIVITY_BATCH = 2000
SWEEP_EVERY_S = 3600.0


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> AsgiFastStream:
    settings = settings or Settings.from_env()
    runtime = Runtime(settings, messaging)
    new_uow = runtime.uow_factory(CohortUnitOfWork)
    batcher = Batcher(
        lambda events: record_activity(events, new_uow()),
        name="cohort-activity",
        max_size=ACTIVITY_BATCH,
        weight=activity.weight,
    )
    wiring = CohortWiring(new_uow=new_uow, clock=clock or SystemClock(), activity=batcher)
    resuming, sweeping = Resuming(wiring), Sweeping(wiring)
    return build_app(
        runtime,
        wiring,
        [build_router()],
        on_started=[resuming.start, sweeping.start],
        on_stopping=[resuming.stop, sweeping.stop, lambda _: batcher.drain()],
        title="cohort",
    )


class _Background:
    """One background task of the service, cancelled when it stops."""

    def __init__(self, wiring: CohortWiring) -> None:
        self._wiring = wiring
        self._task: asyncio.Task[None] | None = None

    async def start(self, _: Runtime) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        raise NotImplementedError

    async def stop(self, _: Runtime) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class Sweeping(_Background):
    """Deletes the staged rows of imports never committed (ABANDON_AFTER), at start-up and then hourly."""

    async def _run(self) -> None:
        while True:
            try:
                await abandon_stale_imports(self._wiring.new_uow(), self._wiring.clock.now())
            except Exception:
                # The next sweep tries again; staged rows waiting an hour longer harm nothing else.
                log.exception("sweeping abandoned cohort imports failed")
            await asyncio.sleep(SWEEP_EVERY_S)


class Resuming(_Background):
    """Finishes, in the background, any import commit a stopped or failed process left part-way."""

    async def _run(self) -> None:
        try:
            await resume_unfinished(self._wiring.new_uow(), self._wiring.clock.now())
        except Exception:
            # The next start-up, or the CLI committing again, finishes it; the service itself is fine.
            log.exception("resuming unfinished cohort imports failed")
