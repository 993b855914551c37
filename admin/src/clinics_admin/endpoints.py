"""Where DATABASE_URL and RABBITMQ_URL point, whether anything answers there, and whether the runner may start it.

`make dev` starts a private server only on this machine's loopback (`localhost`, `127.0.0.1`): any other host
is someone else's machine (or the developer's deliberate choice), and nothing is ever started for it.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from msgkit.addresses import parse_addresses
from msgkit.db import sync_url

# Hosts a private server can listen on; a private RabbitMQ node listens on 127.0.0.1 (cluster.node).
LOCAL_HOSTS = ("localhost", "127.0.0.1")


class CannotStart(RuntimeError):
    """A server is not running and the runner will not (or cannot) start it; the message is the one line to show."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One server a URL names: `shown` is the URL without its password (safe to print)."""

    kind: str  # "PostgreSQL" or "RabbitMQ"
    setting: str  # the variable the developer sets to point elsewhere
    host: str
    port: int
    shown: str

    @property
    def local(self) -> bool:
        return self.host in LOCAL_HOSTS

    def answers(self, timeout: float = 1.0) -> bool:
        """Something accepts TCP connections there (whether it is the right server is bootstrap's to find)."""
        try:
            with socket.create_connection((self.host, self.port), timeout=timeout):
                return True
        except OSError:
            return False

    def not_running(self, why: str) -> CannotStart:
        return CannotStart(f"{self.kind} is not running at {self.shown} {why}")


def postgres_endpoint(database_url: str) -> Endpoint:
    try:
        url = make_url(sync_url(database_url))
        port = url.port or 5432
    except (ArgumentError, ValueError):
        # SQLAlchemy's message quotes the whole URL, password and all: not shown.
        raise CannotStart("DATABASE_URL is not a database URL (postgresql://user@host:port/database)") from None
    shown = url.render_as_string(hide_password=True)
    # No host means a Unix socket: not a server the runner could start (nor reach by TCP to check).
    return Endpoint("PostgreSQL", "DATABASE_URL", url.host or "", port, shown)


def rabbitmq_endpoints(rabbitmq_url: str) -> list[Endpoint]:
    """Every node of the address list (one for a single server)."""
    addresses = parse_addresses(rabbitmq_url)
    shown = addresses.redacted()
    return [Endpoint("RabbitMQ", "RABBITMQ_URL", host, port, shown) for host, port in addresses.endpoints]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for an Erlang distribution port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
