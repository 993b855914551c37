"""Composition root of the sessions service: settings, clock, runtime, unit of work and request handlers."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from msgkit.clock import Clock, SystemClock
from msgkit.runtime import Runtime, build_app
from msgkit.wiring import Wiring
from sessions import handlers, tables
from sessions.config import Settings
from sessions.uow import SessionsUnitOfWork


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> AsgiFastStream:
    settings = settings or Settings.from_env()
    runtime = Runtime(settings, tables.messaging)
    wiring = Wiring(new_uow=runtime.uow_factory(SessionsUnitOfWork), clock=clock or SystemClock())
    return build_app(runtime, wiring, [handlers.build_router()], title="sessions")
