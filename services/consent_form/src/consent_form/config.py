"""Settings of the consent form, from CONSENT_FORM_* environment variables."""

from __future__ import annotations

from pydantic import Field

from msgkit.settings import ServiceSettings, settings_config


class Settings(ServiceSettings):
    model_config = settings_config("CONSENT_FORM_")

    service_name: str = "consent_form"
    http_port: int = 8105
    # Off only for plain-HTTP development and tests: browsers drop a Secure cookie sent over http://
    # except on localhost, which they treat as a secure context.
    cookie_secure: bool = True
    # A draft (and its cookie) lives this long after the parent's last page; then it is gone.
    draft_minutes: int = Field(default=60, ge=5, le=24 * 60)
    # Form submissions each client (by address) may make per minute: a parent submits once or twice.
    submissions_per_minute: int = Field(default=10, ge=1, le=10_000)
    request_timeout: float = Field(default=10.0, gt=0)
    # Broker connections requests go out on at once (FastStream sends one request per connection at a time).
    # 32, not 8: with 200 parents at once (make bench, run 8) submissions went from 14 to 33/s and submit →
    # recorded p99 from 14 to 6 s, for 3 MB more RSS; RabbitMQ's CPU fell (fewer requests parked on locks).
    rpc_connections: int = Field(default=32, ge=1, le=64)
    # Behind a proxy that sets X-Forwarded-For, the number of proxies to trust (0: the socket's address).
    trusted_proxies: int = Field(default=0, ge=0, le=5)
