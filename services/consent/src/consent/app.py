"""Composition root of the consent service."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from consent import tables
from consent.config import Settings
from consent.handlers import router
from msgkit.clock import Clock, SystemClock
from msgkit.runtime import Runtime, build_app


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> AsgiFastStream:
    settings = settings or Settings.from_env()
    runtime = Runtime(settings, tables.messaging)
    runtime.extras["clock"] = clock or SystemClock()
    return build_app(runtime, [router], title="consent")
