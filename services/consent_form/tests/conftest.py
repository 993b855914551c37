"""Fixtures of the consent form's tests: the app on the real database, with the contract's answers faked."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from consent_form.app import create_app
from consent_form.config import Settings
from contracts.consent_form import LinkKind

from .fakes import OTHER_TOKEN, REQUEST_TOKEN, TEAM_TOKEN, FakeGateway, flu, hpv, make_view

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def form_database(migrated: Callable[[str], str]) -> str:
    return migrated("consent_form")


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway(
        views={
            REQUEST_TOKEN: make_view(programmes=[flu(), hpv()]),
            OTHER_TOKEN: make_view(child="Grace"),
            TEAM_TOKEN: make_view(kind=LinkKind.TEAM),
        }
    )


def settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "cookie_secure": False,
        "log_json": False,
        "submissions_per_minute": 1000,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def make_client(form_database: str, gateway: FakeGateway) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        base = "https://testserver" if overrides.get("cookie_secure") else "http://testserver"
        client = TestClient(create_app(settings(form_database, **overrides), gateway=gateway), base_url=base)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)
