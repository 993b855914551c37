"""Composition root of the notify service: runtime, subscribers, dispatcher, provider and callback route.

The only place that builds notify's unit of work.
"""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from msgkit.batching import Batcher
from msgkit.clock import Clock, SystemClock
from msgkit.runtime import Hook, Runtime, build_app
from notify.config import Settings
from notify.delivery import callbacks
from notify.delivery.dispatcher import Dispatcher
from notify.delivery.govuk_notify import GovUkNotifyProvider
from notify.delivery.providers import Provider
from notify.delivery.receipts import DeliveryResult, Receipt, record_receipts
from notify.domain.default_templates import default_catalogue
from notify.handlers import build_router
from notify.persistence.tables import messaging
from notify.persistence.uow import NotifyUnitOfWork
from notify.wiring import NotifyWiring, build_dispatcher, build_provider

Receipts = Batcher[Receipt, DeliveryResult]


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, provider: Provider | None = None
) -> AsgiFastStream:
    s = settings or Settings.from_env()
    runtime, clock, catalogue = Runtime(s, messaging), clock or SystemClock(), default_catalogue()
    provider, client = (provider, None) if provider is not None else build_provider(s)

    def new_uow() -> NotifyUnitOfWork:
        # Each unit of work wakes the dispatcher (made below) and has it send what the work makes due now.
        return NotifyUnitOfWork(
            runtime.sessions,
            runtime.tables,
            consumer=runtime.service,
            on_commit=runtime.wake_relay,
            on_due=dispatcher.wake,
            sender=dispatcher,
        )

    dispatcher = build_dispatcher(s, new_uow=new_uow, clock=clock, provider=provider, catalogue=catalogue)
    receipts: Receipts = Batcher(lambda batch: record_receipts(batch, new_uow(), clock.now()), name="delivery-receipts")
    start, stop = _lifecycle(dispatcher, receipts, client, enabled=s.dispatcher_enabled)
    route = callbacks.delivery_status_endpoint(receipts.submit, token=s.callback_token.get_secret_value())
    return build_app(
        runtime,
        NotifyWiring(new_uow=new_uow, clock=clock, catalogue=catalogue),
        [build_router()],
        on_started=[start],
        on_stopping=[stop],
        title="notify",
        extra_routes=[(callbacks.PATH, route)],
    )


def _lifecycle(
    dispatcher: Dispatcher, receipts: Receipts, client: GovUkNotifyProvider | None, *, enabled: bool
) -> tuple[Hook, Hook]:
    """Start the dispatcher once the app is up; on the way down, record the receipts posted, let the calls in
    flight finish, and close the provider's connections."""

    async def start(_: Runtime) -> None:
        if enabled:
            await dispatcher.start()

    async def stop(_: Runtime) -> None:
        await receipts.drain()
        await dispatcher.stop()
        if client is not None:
            await client.aclose()

    return start, stop
