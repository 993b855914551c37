"""A least-privilege broker vhost and database, set up by clinics_admin.bootstrap exactly as `make dev` does."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from clinics_admin.bootstrap import (
    CLIENT_DATABASES,
    RabbitmqctlAdmin,
    ensure_broker,
    ensure_roles,
    service_database_url,
)
from contracts.topology import SERVICES
from msgkit.migrations import upgrade
from testkit import RabbitServer, fresh_database, postgres_server


@pytest.fixture(scope="package")
def privileged_vhost(rabbit: RabbitServer) -> Iterator[str]:
    """A fresh vhost with every service's user and the whole topology; yields the admin URL."""
    with rabbit.fresh_vhost() as url:
        asyncio.run(ensure_broker(url, admin=RabbitmqctlAdmin(lambda args: rabbit.ctl(*args))))
        yield url


@pytest.fixture(scope="package")
def roles_database() -> Iterator[str]:
    """A fresh database with every service's role, each schema migrated by its own role; yields the admin URL."""
    with ExitStack() as stack:
        server = stack.enter_context(postgres_server(stack))
        url = stack.enter_context(fresh_database(server))
        asyncio.run(ensure_roles(url, (*SERVICES, *CLIENT_DATABASES)))
        for service in (*SERVICES, *CLIENT_DATABASES):
            migrations = importlib.import_module(f"{service}.migrate").MIGRATIONS
            upgrade(migrations, url=service_database_url(url, service), schema=service)
        yield url
