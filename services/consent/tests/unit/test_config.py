"""A deployment never signs consent-form links with the development secret this repository publishes."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from consent.config import DEV_LINK_SECRET, Settings


def test_an_https_form_refuses_the_public_development_secret() -> None:
    with pytest.raises(ValidationError, match="CONSENT_LINK_SECRETS must be set"):
        Settings(form_url="https://consent.example.nhs.uk/consent")
    with pytest.raises(ValidationError, match="CONSENT_LINK_SECRETS must be set"):
        Settings(form_url="https://consent.example.nhs.uk/consent", link_secrets=SecretStr(f"new,{DEV_LINK_SECRET}"))


def test_a_set_secret_or_a_developers_http_form_is_accepted() -> None:
    assert Settings(form_url="https://x.example/consent", link_secrets=SecretStr("s3cret")).link_secret_list() == (
        "s3cret",
    )
    assert Settings(form_url="http://localhost:8105/consent").link_secret_list() == (DEV_LINK_SECRET,)
