"""Settings every service shares; each service subclasses with its own env prefix (NOTIFY_, COHORT_…)."""

from __future__ import annotations

import os
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from msgkit.addresses import parse_addresses

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


class ServiceSettings(BaseSettings):
    """Connection, runtime and messaging settings. Secrets come only from the environment."""

    # A rejected value is not echoed in the error: it may be a URL with a password in it.
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, hide_input_in_errors=True)

    service_name: str = "service"
    database_url: SecretStr = SecretStr("postgresql+asyncpg://postgres@127.0.0.1:5432/clinics")
    # One AMQP URL, or a cluster's nodes separated by commas (msgkit.addresses): reconnects go to the next one.
    rabbitmq_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/")
    db_schema: str = ""
    db_pool_size: int = Field(default=10, ge=1, le=100)
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8100, ge=0, le=65535)
    prefetch_count: int = Field(default=50, ge=1, le=2000)
    graceful_timeout: float = Field(default=20.0, gt=0)
    outbox_batch_size: int = Field(default=500, ge=1, le=5000)
    outbox_batch_bytes: int = Field(default=4 * 1024 * 1024, ge=1)
    outbox_poll_interval: float = Field(default=1.0, gt=0)
    # Seconds between checks that every consumer is still attached (re-attached after two failed checks).
    consumer_check_interval: float = Field(default=15.0, gt=0)
    log_level: str = "INFO"
    log_json: bool = True
    # Declare the other services' exchanges and queues this one touches. False under least privilege,
    # where `python -m clinics_admin.bootstrap` declares the whole topology and the service may configure only its own.
    declare_topology: bool = True
    # TLS. RabbitMQ: an amqps:// URL turns it on; a CA bundle (and a client certificate) are optional.
    rabbitmq_ca_file: str | None = None
    rabbitmq_cert_file: str | None = None
    rabbitmq_key_file: str | None = None
    # PostgreSQL: libpq's sslmode (disable, allow, prefer, require, verify-ca, verify-full); `?sslmode=` or
    # `?ssl=` in the database URL works too. The root certificate is for verify-ca and verify-full.
    database_sslmode: SslMode | None = None
    database_ssl_root_cert: str | None = None

    @field_validator("rabbitmq_url")
    @classmethod
    def _valid_addresses(cls, value: SecretStr) -> SecretStr:
        parse_addresses(value.get_secret_value())  # AddressError is a ValueError: pydantic reports it, masked
        return value

    @property
    def schema_name(self) -> str:
        return self.db_schema or self.service_name

    @classmethod
    def from_env(cls, **overrides: Any) -> Self:
        """Read `<PREFIX>_*` variables, falling back to the shared DATABASE_URL and RABBITMQ_URL."""
        prefix = str(cls.model_config.get("env_prefix", ""))
        for field, shared in (("database_url", "DATABASE_URL"), ("rabbitmq_url", "RABBITMQ_URL")):
            own = f"{prefix}{shared}"
            if field not in overrides and own not in os.environ and shared in os.environ:
                overrides[field] = os.environ[shared]
        return cls(**overrides)


def settings_config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", populate_by_name=True, hide_input_in_errors=True)
