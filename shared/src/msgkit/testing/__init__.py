"""Test support: real servers isolated per run (servers) and the in-process harness tests drive apps with."""

from msgkit.testing.harness import (
    Harness,
    Observer,
    eventually,
    new_team,
    observe,
    publish,
    published_queue,
    running,
)
from msgkit.testing.servers import (
    RabbitServer,
    free_port,
    fresh_database,
    postgres_server,
    rabbitmq_server,
    with_database,
    with_vhost,
)

__all__ = [
    "Harness",
    "Observer",
    "RabbitServer",
    "eventually",
    "free_port",
    "fresh_database",
    "new_team",
    "observe",
    "postgres_server",
    "publish",
    "published_queue",
    "rabbitmq_server",
    "running",
    "with_database",
    "with_vhost",
]
