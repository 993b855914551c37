"""Settings of the consent service, from CONSENT_* environment variables."""

from __future__ import annotations

from msgkit.settings import ServiceSettings, settings_config


class Settings(ServiceSettings):
    model_config = settings_config("CONSENT_")

    service_name: str = "consent"
    http_port: int = 8103
