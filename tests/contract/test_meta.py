"""Meta tests across services: every queue is consumed, and every service's migrations are in order."""

from __future__ import annotations

import importlib
import re

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from faststream import AckPolicy
from faststream.rabbit import RabbitRouter

from contracts import topology

pytestmark = pytest.mark.unit


def subscribed_queues(service: str) -> set[str]:
    handlers = importlib.import_module(f"{service}.handlers")
    routers = [value for value in vars(handlers).values() if isinstance(value, RabbitRouter)]
    if hasattr(handlers, "build_router"):  # a router built per app, so two apps can share a process
        routers.append(handlers.build_router())
    queues: set[str] = set()
    for router in routers:
        for subscriber in router.subscribers:
            queues.add(subscriber.queue.name)
    return queues


@pytest.mark.parametrize("service", topology.SERVICES)
def test_every_queue_in_the_topology_has_a_subscriber(service: str) -> None:
    expected = {b.queue for b in topology.bindings(service)}
    assert subscribed_queues(service) == expected


@pytest.mark.parametrize("service", topology.SERVICES)
def test_migrations_are_numbered_in_order_with_a_single_head(service: str) -> None:
    migrations = importlib.import_module(f"{service}.migrate").MIGRATIONS
    config = Config()
    config.set_main_option("script_location", str(migrations))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1
    files = sorted(p.name for p in (migrations / "versions").glob("*.py"))
    assert files, f"{service} has no migrations"
    for number, name in enumerate(files, start=1):
        assert re.fullmatch(rf"{number:04d}_[a-z]+(_[a-z0-9]+)*\.py", name), name
        revision = script.get_revision(f"{number:04d}")
        assert revision is not None
        assert revision.down_revision == (None if number == 1 else f"{number - 1:04d}")


@pytest.mark.parametrize("service", topology.SERVICES)
def test_every_subscriber_retries_on_error_rather_than_rejecting(service: str) -> None:
    """A transient failure (a database restart) must be retried, not dead-lettered at its first try."""
    app_module = importlib.import_module(f"{service}.app")
    settings = importlib.import_module(f"{service}.config").Settings(http_port=0, log_json=False)
    broker = app_module.create_app(settings).broker
    assert broker.subscribers
    for subscriber in broker.subscribers:
        assert subscriber.ack_policy is AckPolicy.NACK_ON_ERROR, subscriber.queue.name
