"""Composition root of the cohort service."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from faststream.asgi import AsgiFastStream

from cohort.config import Settings
from cohort.handlers import router
from cohort.import_services import resume_unfinished
from cohort.tables import messaging
from cohort.uow import CohortUnitOfWork
from msgkit.clock import Clock, SystemClock
from msgkit.runtime import Runtime, build_app

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> AsgiFastStream:
    settings = settings or Settings.from_env()
    runtime = Runtime(settings, messaging)
    runtime.extras["clock"] = clock or SystemClock()
    return build_app(runtime, [router], on_started=[start_resuming], on_stopping=[stop_resuming], title="cohort")


async def start_resuming(runtime: Runtime) -> None:
    """Finish, in the background, any import commit a stopped or failed process left part-way."""
    uow = CohortUnitOfWork(runtime.sessions, runtime.tables, consumer=runtime.service, on_commit=runtime.wake_relay)
    runtime.extras["resuming"] = asyncio.create_task(_resume(uow, runtime.extras["clock"]))


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
