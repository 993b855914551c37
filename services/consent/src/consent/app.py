"""Composition root of the consent service: runtime, unit of work and handlers."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from consent import tables
from consent.config import Settings
from consent.handlers import build_router
from consent.uow import ConsentUnitOfWork
from consent.wiring import ConsentWiring, LinkMaker
from msgkit.clock import Clock, SystemClock
from msgkit.runtime import Runtime, build_app


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> AsgiFastStream:
    settings = settings or Settings.from_env()
    runtime = Runtime(settings, tables.messaging)
    maker = LinkMaker(settings.link_secret_list(), settings.form_url)
    wiring = ConsentWiring(new_uow=runtime.uow_factory(ConsentUnitOfWork), clock=clock or SystemClock(), links=maker)
    return build_app(runtime, wiring, [build_router()], title="consent")
