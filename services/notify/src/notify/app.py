"""Composition root of the notify service: runtime, subscribers, dispatcher, provider and callback route."""

from __future__ import annotations

from datetime import timedelta

from faststream.asgi import AsgiFastStream

from msgkit.batching import Batcher
from msgkit.clock import Clock, SystemClock
from msgkit.runtime import Runtime, build_app
from notify.config import Settings
from notify.delivery import callbacks
from notify.delivery.claim import SendPolicy
from notify.delivery.dispatcher import Dispatcher
from notify.delivery.govuk_notify import GovUkNotifyProvider
from notify.delivery.local_providers import LogProvider, SmtpProvider
from notify.delivery.providers import Provider
from notify.delivery.receipts import DeliveryResult, Receipt, record_receipts
from notify.domain.default_templates import default_catalogue
from notify.domain.timing import bucket_shape
from notify.handlers import build_router
from notify.persistence.tables import messaging
from notify.persistence.uow import NotifyUnitOfWork
from notify.wiring import NotifyWiring


def build_provider(settings: Settings) -> tuple[Provider, GovUkNotifyProvider | None]:
    """The configured provider, and the HTTP client the app must close (if it made one)."""
    if settings.provider == "govuk_notify":
        key = settings.govuk_api_key.get_secret_value()
        provider = GovUkNotifyProvider(
            key, settings.govuk_base_url, timeout=settings.provider_timeout, max_connections=settings.max_in_flight
        )
        return provider, provider
    if settings.provider == "smtp":
        smtp = SmtpProvider(
            settings.smtp_host, settings.smtp_port, settings.smtp_sender, timeout=settings.provider_timeout
        )
        return smtp, None
    return LogProvider(), None


def send_policy(settings: Settings) -> SendPolicy:
    return SendPolicy(
        bucket=settings.rate_limit_bucket or settings.provider,
        rate_limited=settings.rate_limit_enabled,
        daily_limits={"email": settings.daily_email_limit, "sms": settings.daily_sms_limit},
        max_attempts=settings.max_attempts,
        retry_base=settings.retry_base_seconds,
        retry_max=settings.retry_max_seconds,
    )


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, provider: Provider | None = None
) -> AsgiFastStream:
    s = settings or Settings.from_env()
    runtime = Runtime(s, messaging)
    clock = clock or SystemClock()
    catalogue = default_catalogue()
    client: GovUkNotifyProvider | None = None
    if provider is None:
        provider, client = build_provider(s)
    dispatcher: Dispatcher | None = None

    def new_uow() -> NotifyUnitOfWork:
        return NotifyUnitOfWork(
            runtime.sessions,
            runtime.tables,
            consumer=runtime.service,
            on_commit=runtime.wake_relay,
            on_due=dispatcher.wake if dispatcher is not None else lambda due: None,
            sender=dispatcher,
        )

    dispatcher = Dispatcher(
        new_uow,
        clock=clock,
        provider=provider,
        catalogue=catalogue,
        policy=send_policy(s),
        bucket=bucket_shape(
            limit=s.rate_limit_per_minute,
            window=s.rate_limit_window_seconds,
            burst=s.rate_limit_burst,
            send_rate=s.send_rate_per_second,
        ),
        batch_size=s.dispatcher_batch_size,
        max_in_flight=s.max_in_flight,
        poll_interval=s.dispatcher_poll_interval,
        stale_after=timedelta(seconds=s.stale_sending_seconds),
        postpone=timedelta(seconds=s.postpone_seconds),
    )
    wiring = NotifyWiring(new_uow=new_uow, clock=clock, catalogue=catalogue)

    async def start_dispatcher(_: Runtime) -> None:
        if s.dispatcher_enabled:
            await dispatcher.start()

    async def stop_dispatcher(_: Runtime) -> None:
        await receipts.drain()
        await dispatcher.stop()
        if client is not None:
            await client.aclose()

    receipts: Batcher[Receipt, DeliveryResult] = Batcher(
        lambda batch: record_receipts(batch, new_uow(), clock.now()), name="delivery-receipts"
    )
    route = callbacks.delivery_status_endpoint(receipts.submit, token=s.callback_token.get_secret_value())
    return build_app(
        runtime,
        wiring,
        [build_router()],
        on_started=[start_dispatcher],
        on_stopping=[stop_dispatcher],
        title="notify",
        extra_routes=[(callbacks.PATH, route)],
    )
