"""Composition root of the sessions service: settings, clock, runtime and request handlers."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from msgkit.clock import Clock, SystemClock
from msgkit.runtime import Runtime, build_app
from sessions import handlers, tables
from sessions.config import Settings


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> AsgiFastStream:
    settings = settings or Settings.from_env()
    runtime = Runtime(settings, tables.messaging)
    runtime.extras["clock"] = clock or SystemClock()
    return build_app(runtime, [handlers.router], title="sessions")
