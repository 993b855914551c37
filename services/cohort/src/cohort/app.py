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
from cohort.import_services import resume_unfinished
from cohort.tables import messaging
from cohort.uow import CohortUnitOfWork
from cohort.wiring import CohortWiring
from msgkit.batching import Batcher
from msgkit.clock import Clock, SystemClock
from msgkit.runtime import Runtime, build_app

log = logging.getLogger(__name__)

# Activity entries per transaction: a few thousand rows commit in tens of milliseconds.
ACTIVITY_BATCH = 2000


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
    resuming = Resuming(wiring)
    return build_app(
        runtime,
        wiring,
        [build_router()],
        on_started=[resuming.start],
        on_stopping=[resuming.stop, lambda _: batcher.drain()],
        title="cohort",
    )


class Resuming:
    """Finishes, in the background, any import commit a stopped or failed process left part-way."""

    def __init__(self, wiring: CohortWiring) -> None:
        self._wiring = wiring
        self._task: asyncio.Task[None] | None = None

    async def start(self, _: Runtime) -> None:
        self._task = asyncio.create_task(self._resume())

    async def _resume(self) -> None:
        try:
            await resume_unfinished(self._wiring.new_uow(), self._wiring.clock.now())
        except Exception:
            # The next start-up, or the CLI committing again, finishes it; the service itself is fine.
            log.exception("resuming unfinished cohort imports failed")

    async def stop(self, _: Runtime) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
