"""The four services as real processes against a fresh database and vhost, driven only by the contract.

Package-scoped (tests/e2e is a package for this): the stack and its vhost are gone before tests/security
makes its own. Each vhost of this topology's quorum queues holds ~280 of RabbitMQ's file descriptors, and a
node started with the common 1,024 limit stops accepting connections at the third such vhost.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from faststream.rabbit import RabbitBroker

from clinics_admin.bootstrap import CLIENT_DATABASES, ensure_roles
from clinics_admin.processes import ServiceProcess, service_env
from msgkit.failover import FailoverBroker
from testkit import RabbitServer, free_port
from testkit.stack import Stack, World, open_stack, world
from testkit.stub import StubProcess

NOTIFY = {
    "NOTIFY_DISPATCHER_POLL_INTERVAL": "0.5",
    # A send the stub is told to refuse is retried within seconds, not minutes.
    "NOTIFY_RETRY_MAX_SECONDS": "5",
}


@pytest.fixture(scope="package")
def e2e_world(rabbit: RabbitServer) -> Iterator[World]:
    with world(rabbit=rabbit) as the_world:
        yield the_world


@pytest.fixture(scope="package")
def e2e_database_url(e2e_world: World) -> str:
    return e2e_world.database_url


@pytest.fixture(scope="package")
def e2e_amqp_url(e2e_world: World) -> str:
    return e2e_world.amqp_url


@pytest.fixture(scope="package")
def e2e_log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(os.environ.get("E2E_LOG_DIR") or tmp_path_factory.mktemp("service-logs"))


@pytest.fixture(scope="package")
def e2e_stack(e2e_world: World, e2e_log_dir: Path) -> Iterator[Stack]:
    """All four services started, migrated and ready, each as its own least-privilege RabbitMQ user; the Notify
    stub (on loopback) calls notify back with delivery statuses. Stopped gracefully at the end of the run."""
    with open_stack(e2e_world, log_dir=e2e_log_dir, env={"notify": NOTIFY}, amqp_users=True, ready_timeout=60) as st:
        yield st


@pytest.fixture(scope="package")
def stack(e2e_stack: Stack) -> dict[str, ServiceProcess]:
    return e2e_stack.processes


@pytest.fixture(scope="package")
def notify_stub(e2e_stack: Stack) -> StubProcess:
    return e2e_stack.stub


@pytest.fixture
async def client(e2e_amqp_url: str, stack: dict[str, ServiceProcess]) -> AsyncIterator[RabbitBroker]:
    """A broker connection speaking the contract, as the CLI or another system would."""
    broker = FailoverBroker(e2e_amqp_url, log_level=30)
    await broker.connect()
    try:
        yield broker
    finally:
        await broker.stop()


@pytest.fixture(scope="package")
def consent_form(e2e_world: World, e2e_stack: Stack, e2e_log_dir: Path) -> Iterator[ServiceProcess]:
    """The parent-facing consent form as a process beside the stack, as its own broker user (consent_form,
    which may send only the form's requests), on plain http:// on loopback."""
    with ThreadPoolExecutor(1) as pool:  # its own loop: sync tests (Playwright's) share this fixture
        pool.submit(asyncio.run, ensure_roles(e2e_world.database_url, CLIENT_DATABASES)).result()
    port = free_port()
    env = service_env(
        "consent_form",
        database_url=e2e_world.database_url,
        rabbitmq_url=e2e_world.amqp_url,
        port=port,
        extra={"CONSENT_FORM_COOKIE_SECURE": "false"},
        amqp_user=True,
    )
    process = ServiceProcess("consent_form", env, port, e2e_log_dir / "consent_form.log")
    process.migrate()
    process.start()
    try:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, process.wait_ready(timeout=60)).result()
        yield process
    finally:
        process.stop()
