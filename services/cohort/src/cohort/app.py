"""Composition root of the cohort service."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from faststream.asgi import AsgiFastStream

from cohort import activity
from cohort.config import Settings
from cohort.event_services import record_activity
from cohort.handlers import router
from cohort.import_services import resume_unfinished
from cohort.tables import messaging
from cohort.uow import CohortUnitOfWork
from contracts.envelope import Message
from msgkit.batching import Batcher
from msgkit.clock import Clock, SystemClock
from msgkit.runtime import Runtime, build_app

log = logging.getLogger(__name__)

# Activity entries per transaction: a few thousand rows commit in tens of milliseconds.
ACTIVITY_BATCH = 2000


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> AsgiFastStream:
    settings = settings or Settings.from_env()
    runtime = Runtime(settings, messaging)
    runtime.extras["clock"] = clock or SystemClock()
    runtime.extras["activity"] = Batcher(
        lambda events: record_activity(events, _uow(runtime)),
        name="cohort-activity",
        max_size=ACTIVITY_BATCH,
        weight=activity.weight,
    )
    return build_app(
        runtime, [router], on_started=[start_resuming], on_stopping=[stop_resuming, drain_activity], title="cohort"
    )


def _uow(runtime: Runtime) -> CohortUnitOfWork:
    return CohortUnitOfWork(runtime.sessions, runtime.tables, consumer=runtime.service, on_commit=runtime.wake_relay)


async def drain_activity(runtime: Runtime) -> None:
    batcher: Batcher[Message, None] = runtime.extras["activity"]
    await batcher.drain()


async def start_resuming(runtime: Runtime) -> None:
    """Finish, in the background, any import commit a stopped or failed process left part-way."""
    runtime.extras["resuming"] = asyncio.create_task(_resume(_uow(runtime), runtime.extras["clock"]))


async def _resume(uow: CohortUnitOfWork, clock: Clock) -> None:
    try:
        await resume_unfinished(uow, clock)
    except Exception:
        # The next start-up, or the CLI committing again, finishes it; the service itself is fine.
        log.exception("resuming unfinished cohort imports failed")


async def stop_resuming(runtime: Runtime) -> None:
    task: asyncio.Task[None] | None = runtime.extras.get("resuming")
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
