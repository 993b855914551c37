"""Session fixtures shared by every test tree: one fresh database and one fresh vhost per run."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from msgkit.migrations import upgrade
from testkit import RabbitServer, fresh_database, postgres_server, rabbitmq_server


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


@pytest.fixture(scope="session")
def own_rabbit() -> Iterator[RabbitServer]:
    """A one-node RabbitMQ of this run's own, for tests that stop and restart the broker.

    Restarting the node DATABASE_URL's neighbour RABBITMQ_URL names would cut off every other run on the
    machine (another checkout's suite, a `make dev` stack) for seconds. This node is started on free ports
    under the checkout's .run/ (~10 s) and stopped at the end of the run.
    """
    import hashlib
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))  # cluster/ lives at the repository root, like bench/ and chaos/
    from cluster import Cluster
    from cluster.node import rabbitmq_bin
    from testkit import free_port

    if rabbitmq_bin() is None:
        pytest.skip("rabbitmq-server is not installed: broker-restart tests start a RabbitMQ node of their own")
    home = root / ".run" / "own-rabbit"
    amqp, dist = free_port(), free_port()
    cluster = Cluster.on_ports(
        home, name="r" + hashlib.sha1(str(home).encode()).hexdigest()[:6], amqp_ports=[amqp], dist_ports=[dist]
    )
    cluster.up()
    [node] = cluster.nodes

    def ctl(args: list[str]) -> None:
        cluster.ctl(node, *args)

    try:
        yield RabbitServer(node.url("/"), ctl)
    finally:
        cluster.down()
