"""Notify's parts made from its settings (the provider, the dispatcher), and what its handlers are given.

`app.py` is the composition root, the only place that builds the unit of work; the factories here take
it from there (and `bench.scale_daily`, which runs dispatchers without the rest of the app, from its own).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from msgkit.clock import Clock
from msgkit.wiring import Wiring
from notify.config import Settings
from notify.delivery.claim import SendPolicy
from notify.delivery.dispatcher import Dispatcher, Pace
from notify.delivery.govuk_notify import GovUkNotifyProvider
from notify.delivery.local_providers import LogProvider, SmtpProvider
from notify.delivery.providers import Provider
from notify.domain.templates import TemplateCatalogue
from notify.domain.timing import bucket_shape
from notify.persistence.uow import NotifyUnitOfWork


@dataclass(frozen=True, slots=True)
class NotifyWiring(Wiring[NotifyUnitOfWork]):
    catalogue: TemplateCatalogue


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
        in_flight=settings.provider_in_flight_seconds,
    )


def pace(settings: Settings) -> Pace:
    return Pace(
        batch_size=settings.dispatcher_batch_size,
        max_in_flight=settings.max_in_flight,
        poll_interval=settings.dispatcher_poll_interval,
        stale_after=timedelta(seconds=settings.stale_sending_seconds),
        postpone=timedelta(seconds=settings.postpone_seconds),
    )


def build_dispatcher(
    settings: Settings,
    *,
    new_uow: Callable[[], NotifyUnitOfWork],
    clock: Clock,
    provider: Provider,
    catalogue: TemplateCatalogue,
) -> Dispatcher:
    """The dispatcher a replica runs, as its settings shape it (limits, retries, batch, pace)."""
    bucket = bucket_shape(
        limit=settings.rate_limit_per_minute,
        window=settings.rate_limit_window_seconds,
        burst=settings.rate_limit_burst,
        send_rate=settings.send_rate_per_second,
    )
    return Dispatcher(
        new_uow,
        clock=clock,
        provider=provider,
        catalogue=catalogue,
        policy=send_policy(settings),
        bucket=bucket,
        pace=pace(settings),
    )
