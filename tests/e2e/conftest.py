"""The four services as real processes against a fresh database and vhost, driven only by the contract.

Package-scoped (tests/e2e is a package for this): the stack and its vhost are gone before tests/security
makes its own. Each vhost of this topology's quorum queues holds ~280 of RabbitMQ's file descriptors, and a
node started with the common 1,024 limit stops accepting connections at the third such vhost.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from faststream.rabbit import RabbitBroker

from clinics_admin.bootstrap import RabbitmqctlAdmin, ensure_broker, ensure_roles
from clinics_admin.processes import ServiceProcess, service_processes
from contracts.topology import SERVICES
from msgkit.testing import RabbitServer, free_port, fresh_database, postgres_server

from .support import CALLBACK_TOKEN, StubServer


@pytest.fixture(scope="package")
def e2e_database_url() -> Iterator[str]:
    with ExitStack() as stack:
        server = stack.enter_context(postgres_server(stack))
        url = stack.enter_context(fresh_database(server))
        asyncio.run(ensure_roles(url))
        yield url


@pytest.fixture(scope="package")
def e2e_amqp_url(rabbit: RabbitServer) -> Iterator[str]:
    with rabbit.fresh_vhost() as url:
        yield url


@pytest.fixture(scope="package")
def e2e_log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(os.environ.get("E2E_LOG_DIR") or tmp_path_factory.mktemp("service-logs"))


@pytest.fixture(scope="package")
def ports() -> dict[str, int]:
    return {s: free_port() for s in SERVICES}


@pytest.fixture(scope="package")
def notify_stub(ports: dict[str, int], e2e_log_dir: Path) -> Iterator[StubServer]:
    """A GOV.UK Notify-compatible server on loopback that calls back notify with delivery statuses."""
    with StubServer.start(
        log_path=e2e_log_dir / "notify-stub.log",
        callback_url=f"http://127.0.0.1:{ports['notify']}/notifications/status",
        callback_token=CALLBACK_TOKEN,
    ) as stub:
        yield stub


@pytest.fixture(scope="package")
def service_env_extra(notify_stub: StubServer) -> dict[str, dict[str, str]]:
    return {
        "notify": {
            "NOTIFY_PROVIDER": "govuk_notify",
            "NOTIFY_GOVUK_BASE_URL": notify_stub.url,
            "NOTIFY_GOVUK_API_KEY": notify_stub.api_key,
            "NOTIFY_CALLBACK_TOKEN": CALLBACK_TOKEN,
            "NOTIFY_DISPATCHER_POLL_INTERVAL": "0.5",
            # A send the stub is told to refuse is retried within seconds, not minutes.
            "NOTIFY_RETRY_MAX_SECONDS": "5",
        }
    }


@pytest.fixture(scope="package")
def stack(
    e2e_database_url: str,
    e2e_amqp_url: str,
    e2e_log_dir: Path,
    ports: dict[str, int],
    service_env_extra: dict[str, dict[str, str]],
    rabbit: RabbitServer,
) -> Iterator[dict[str, ServiceProcess]]:
    """All four services started, migrated and ready; stopped gracefully at the end of the run."""
    # Each service connects as its own least-privilege RabbitMQ user; the topology is declared once, as admin.
    asyncio.run(ensure_broker(e2e_amqp_url, admin=RabbitmqctlAdmin(lambda args: rabbit.ctl(*args))))
    processes = service_processes(
        list(SERVICES),
        database_url=e2e_database_url,
        rabbitmq_url=e2e_amqp_url,
        log_dir=e2e_log_dir,
        ports=ports,
        extra_env=service_env_extra,
        amqp_users=True,
    )
    for p in processes:
        p.migrate()
        p.start()
    try:
        asyncio.run(_all_ready(processes))
        yield {p.service: p for p in processes}
    finally:
        for p in processes:
            p.stop()


async def _all_ready(processes: list[ServiceProcess]) -> None:
    await asyncio.gather(*(p.wait_ready(timeout=60) for p in processes))


@pytest.fixture
async def client(e2e_amqp_url: str, stack: dict[str, ServiceProcess]) -> AsyncIterator[RabbitBroker]:
    """A broker connection speaking the contract, as the CLI or another system would."""
    broker = RabbitBroker(e2e_amqp_url, log_level=30)
    await broker.connect()
    try:
        yield broker
    finally:
        await broker.stop()
