"""Settings of the consent service, from CONSENT_* environment variables."""

from __future__ import annotations

from typing import Self

from pydantic import SecretStr, model_validator

from msgkit.settings import ServiceSettings, settings_config

# Signs links only on a developer's machine and in tests: every deployment sets CONSENT_LINK_SECRETS.
DEV_LINK_SECRET = "dev-only-consent-link-secret"


class Settings(ServiceSettings):
    model_config = settings_config("CONSENT_")

    service_name: str = "consent"
    http_port: int = 8103
    # CONSENT_LINK_SECRETS: comma-separated; the first signs new consent-form links, every one is accepted.
    # Rotate by putting a new secret first; drop the old one once the links it signed have expired.
    link_secrets: SecretStr = SecretStr(DEV_LINK_SECRET)
    # CONSENT_FORM_URL: where the parent-facing consent form is served; a link is `<form_url>/<token>`.
    form_url: str = "http://localhost:8105/consent"

    @model_validator(mode="after")
    def _no_public_secret_in_a_deployment(self) -> Self:
        """A form served over https is a deployment: links signed with the secret in this file could be forged."""
        if self.form_url.startswith("https://") and DEV_LINK_SECRET in self.link_secret_list():
            raise ValueError(
                "CONSENT_LINK_SECRETS must be set (the development secret is public) where the form is https"
            )
        return self

    def link_secret_list(self) -> tuple[str, ...]:
        found = tuple(s.strip() for s in self.link_secrets.get_secret_value().split(",") if s.strip())
        if not found:
            raise ValueError("CONSENT_LINK_SECRETS must hold at least one secret")
        return found
