"""Settings of the sessions service, from SESSIONS_* environment variables."""

from __future__ import annotations

from msgkit.settings import ServiceSettings, settings_config


class Settings(ServiceSettings):
    model_config = settings_config("SESSIONS_")

    service_name: str = "sessions"
    http_port: int = 8101
