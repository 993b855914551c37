"""Settings of the notify service, from NOTIFY_* environment variables."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator

from msgkit.settings import ServiceSettings, settings_config
from notify.delivery.govuk_notify import DEFAULT_BASE_URL


class Settings(ServiceSettings):
    model_config = settings_config("NOTIFY_")

    service_name: str = "notify"
    http_port: int = 8104

    # Which gateway sends: GOV.UK Notify in production, SMTP to a mail catcher, or the log.
    provider: Literal["govuk_notify", "smtp", "log"] = "log"
    govuk_api_key: SecretStr = SecretStr("")
    govuk_base_url: str = DEFAULT_BASE_URL
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_sender: str = "no-reply@clinics.local"
    provider_timeout: float = Field(default=10.0, gt=0)
    # How long the provider may go on with a request after notify gave up on it (GOV.UK Notify keeps
    # processing a request whose client has gone). An ambiguous send is looked up, and only then resent,
    # no sooner than this after notify gave up: a lookup while the first request is still in flight finds
    # nothing, and the resend is a second message. The outside test saw 20 s; 60 s leaves three times that.
    provider_in_flight_seconds: float = Field(default=60.0, ge=0)
    # Bearer token GOV.UK Notify sends with delivery-status callbacks; empty refuses every callback.
    callback_token: SecretStr = SecretStr("")

    dispatcher_enabled: bool = True
    dispatcher_batch_size: int = Field(default=100, ge=1, le=1000)
    dispatcher_poll_interval: float = Field(default=1.0, gt=0)
    # Twice the batch, so one batch is claimed and sending while the last is being recorded.
    max_in_flight: int = Field(default=200, ge=1, le=1000)
    max_attempts: int = Field(default=48, ge=1)
    retry_base_seconds: float = Field(default=5.0, gt=0)
    retry_max_seconds: float = Field(default=300.0, gt=0)
    # A notification still `sending` this long after its attempt began belongs to a dead replica. At least
    # provider_timeout + provider_in_flight_seconds: its call may have been in flight when the replica died.
    stale_sending_seconds: float = Field(default=120.0, gt=0)
    # How long an invitation waits when the child's or team's details have not arrived yet.
    postpone_seconds: float = Field(default=300.0, gt=0)

    # GOV.UK Notify's per-service limit, shared by every replica through a bucket row in PostgreSQL.
    rate_limit_enabled: bool = True
    # The bucket row's name; replicas sending as one provider service must share it (default: the provider).
    rate_limit_bucket: str = ""
    rate_limit_per_minute: int = Field(default=3000, ge=1)
    # The limit counts over this many seconds (60 for Notify; tests shorten it).
    rate_limit_window_seconds: float = Field(default=60.0, gt=0)
    rate_limit_burst: int = Field(default=50, ge=1)
    send_rate_per_second: float = Field(default=45.0, gt=0)
    daily_email_limit: int = Field(default=250_000, ge=0)
    daily_sms_limit: int = Field(default=250_000, ge=0)

    @model_validator(mode="after")
    def _stale_after_the_provider_is_done(self) -> Self:
        # A dead replica's `sending` row is looked up this long after its call began: sooner, and the
        # provider may still be taking the message the lookup does not find.
        if self.stale_sending_seconds < self.provider_timeout + self.provider_in_flight_seconds:
            raise ValueError("stale_sending_seconds must be at least provider_timeout + provider_in_flight_seconds")
        return self
