"""Session fixtures shared by every test tree: one fresh database and one fresh vhost per run."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from msgkit.migrations import upgrade
from msgkit.testing import RabbitServer, fresh_database, postgres_server, rabbitmq_server


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A database created for this run on the server DATABASE_URL names (or a container)."""
    with ExitStack() as stack:
        server = stack.enter_context(postgres_server(stack))
        yield stack.enter_context(fresh_database(server))


@pytest.fixture(scope="session")
def rabbit() -> Iterator[RabbitServer]:
    with ExitStack() as stack:
        yield stack.enter_context(rabbitmq_server(stack))


@pytest.fixture(scope="session")
def amqp_url(rabbit: RabbitServer) -> Iterator[str]:
    """A vhost created for this run, so no other run's messages are seen."""
    with rabbit.fresh_vhost() as url:
        yield url


@pytest.fixture(scope="session")
def migrated(database_url: str) -> Callable[[str], str]:
    """Migrate a service's schema (named after it) into the run's database once; returns the URL."""
    done: set[str] = set()

    def migrate(service: str) -> str:
        if service not in done:
            module = importlib.import_module(f"{service}.migrate")
            upgrade(module.MIGRATIONS, url=database_url, schema=service)
            done.add(service)
        return database_url

    return migrate
