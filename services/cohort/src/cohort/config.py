"""Settings of the cohort service, from COHORT_* environment variables."""

from __future__ import annotations

from msgkit.settings import ServiceSettings, settings_config


class Settings(ServiceSettings):
    model_config = settings_config("COHORT_")

    service_name: str = "cohort"
    http_port: int = 8102
