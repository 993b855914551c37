"""Test support, never in a service image: real servers isolated per run (`servers`), the in-process harness
tests drive an app with (`harness`), the services as processes (`stack`, with the Notify stub of `stub`) and test
data (`data`). The names below are the ones every test tree uses; import the rest from their modules."""

from testkit.harness import (
    Harness,
    Observer,
    eventually,
    new_team,
    observe,
    publish,
    published_queue,
    running,
)
from testkit.servers import (
    RabbitServer,
    admin_user,
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
    "admin_user",
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
