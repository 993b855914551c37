"""Admin set-up, run before the services: database roles and schemas, RabbitMQ users and the topology.

`python -m clinics_admin.bootstrap` with an admin DATABASE_URL (and, for the broker, an admin RABBITMQ_URL).
Idempotent. Each service gets
- a PostgreSQL login role that owns only its own schema (password `<SERVICE>_DB_PASSWORD`), and
- a RabbitMQ user (password `<SERVICE>_AMQP_PASSWORD`) whose vhost permissions, built from
  `contracts.topology`, allow only its own queues, its own exchanges and the exchanges it reads from.
Each client of `contracts.topology.CLIENTS` (the staff CLI `clinics_cli`, the consent form `consent_form`) gets a
RabbitMQ user (password `<CLIENT>_AMQP_PASSWORD`) that may only publish to the requests exchanges it asks through.
Development passwords default to the user's name; set real ones elsewhere. docs/security.md has the whole model.

The whole topology (every exchange, queue, binding and dead-letter queue) is declared here, as an admin
step like migrations: a service may not configure another service's queues, so it cannot declare the
consumers' queues of what it publishes itself (see `msgkit.broker.declare_topology`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shlex
import subprocess
import urllib.request
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import asyncpg

from clinics_admin.dead_letter_bound import DEAD_LETTER_BOUND, OperatorPolicy

# Re-exported ("as"): tests and tools import the permissions from here.
from clinics_admin.permissions import DEFAULT_EXCHANGE as DEFAULT_EXCHANGE
from clinics_admin.permissions import Permissions as Permissions
from clinics_admin.permissions import broker_permissions as broker_permissions
from clinics_admin.permissions import client_permissions as client_permissions
from clinics_admin.permissions import principal_permissions
from clinics_admin.permissions import published_exchanges as published_exchanges
from contracts import topology
from contracts.topology import SERVICES
from msgkit.addresses import parse_addresses
from msgkit.db import sync_url

# Clients of the services with a database role of their own (the consent form keeps parents' drafts).
CLIENT_DATABASES = ("consent_form",)


def role_password(service: str) -> str:
    return os.environ.get(f"{service.upper()}_DB_PASSWORD", service)


def amqp_password(service: str) -> str:
    return os.environ.get(f"{service.upper()}_AMQP_PASSWORD", service)


def service_database_url(admin_url: str, service: str) -> str:
    """The admin URL with the service's own role as the user."""
    parts = urlsplit(sync_url(admin_url))
    host = parts.hostname or "127.0.0.1"
    netloc = f"{service}:{quote(role_password(service), safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def service_amqp_url(admin_url: str, service: str) -> str:
    """The admin AMQP address list (nodes, scheme, vhost and options kept) with the service's own user."""
    return str(parse_addresses(admin_url).with_credentials(service, amqp_password(service)))


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe identifier {name!r}")
    return f'"{name}"'


# --- PostgreSQL -------------------------------------------------------------------------------


async def ensure_database(admin_url: str) -> str:
    url = sync_url(admin_url)
    name = urlsplit(url).path.lstrip("/") or "clinics"
    conn = await asyncpg.connect(urlunsplit(urlsplit(url)._replace(path="/postgres")))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f"CREATE DATABASE {_ident(name)}")
    finally:
        await conn.close()
    return name


async def ensure_roles(admin_url: str, services: tuple[str, ...] = SERVICES) -> None:
    database = await ensure_database(admin_url)
    conn = await asyncpg.connect(sync_url(admin_url))
    try:
        # Nobody but a service's own role may create objects or read in the database by default.
        await conn.execute(f"REVOKE ALL ON DATABASE {_ident(database)} FROM PUBLIC")
        await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        for service in services:
            role = _ident(service)
            password = role_password(service).replace("'", "''")
            if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", service):
                await conn.execute(f"ALTER ROLE {role} WITH LOGIN PASSWORD '{password}'")
            else:
                await conn.execute(f"CREATE ROLE {role} WITH LOGIN PASSWORD '{password}'")
            # A service role is never a superuser, never creates roles or databases, never bypasses RLS.
            await conn.execute(f"ALTER ROLE {role} NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS")
            await conn.execute(f"GRANT CONNECT ON DATABASE {_ident(database)} TO {role}")
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {role} AUTHORIZATION {role}")
            await conn.execute(f"ALTER ROLE {role} SET search_path = {role}")
            await conn.execute(f"REVOKE ALL ON SCHEMA {role} FROM PUBLIC")
    finally:
        await conn.close()


# --- RabbitMQ ---------------------------------------------------------------------------------


class BrokerAdmin(Protocol):
    """Manages RabbitMQ users: by `rabbitmqctl` on the broker's host, or its management HTTP API."""

    def put_user(self, user: str, password: str) -> None: ...

    def set_permissions(self, vhost: str, user: str, permissions: Permissions) -> None: ...

    def set_operator_policy(self, vhost: str, policy: OperatorPolicy) -> None: ...


class RabbitmqctlAdmin:
    """`rabbitmqctl` (make dev and the tests: no management plugin needed)."""

    def __init__(self, ctl: Callable[[list[str]], None] | None = None) -> None:
        self._ctl = ctl or local_ctl

    def put_user(self, user: str, password: str) -> None:
        try:
            self._ctl(["add_user", user, password])
        except (subprocess.CalledProcessError, RuntimeError):
            # Already there (rabbitmqctl has no "add or update"): make the password the wanted one.
            self._ctl(["change_password", user, password])

    def set_permissions(self, vhost: str, user: str, permissions: Permissions) -> None:
        p = permissions
        self._ctl(["set_permissions", "-p", vhost, user, p.configure, p.write, p.read])

    def set_operator_policy(self, vhost: str, policy: OperatorPolicy) -> None:
        self._ctl(policy.rabbitmqctl_args(vhost))


def local_ctl(args: list[str]) -> None:
    """`rabbitmqctl -q ARGS` on this machine's node, or on the node RABBITMQCTL's command reaches."""
    # RABBITMQCTL names another command, e.g. `python -m cluster ctl` for the local cluster (its own cookie).
    command = shlex.split(os.environ.get("RABBITMQCTL", "rabbitmqctl"))
    subprocess.run([*command, "-q", *args], check=True, capture_output=True, timeout=120)


class ManagementApiAdmin:
    """The management plugin's HTTP API (docker compose, whose RabbitMQ image has it)."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.base = urlunsplit(parts._replace(netloc=f"{parts.hostname}:{parts.port or 15672}")).rstrip("/")
        credentials = f"{unquote(parts.username or 'guest')}:{unquote(parts.password or 'guest')}"
        self._auth = "Basic " + base64.b64encode(credentials.encode()).decode()

    def _put(self, path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(
            f"{self.base}/api/{path}",
            data=json.dumps(body).encode(),
            method="PUT",
            headers={"content-type": "application/json", "authorization": self._auth},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def put_user(self, user: str, password: str) -> None:
        self._put(f"users/{quote(user, safe='')}", {"password": password, "tags": ""})

    def set_permissions(self, vhost: str, user: str, permissions: Permissions) -> None:
        p = permissions
        path = f"permissions/{quote(vhost, safe='')}/{quote(user, safe='')}"
        self._put(path, {"configure": p.configure, "write": p.write, "read": p.read})

    def set_operator_policy(self, vhost: str, policy: OperatorPolicy) -> None:
        self._put(*policy.api_request(vhost))


def vhost_of(amqp_url: str) -> str:
    return parse_addresses(amqp_url).vhost


async def declare_broker_topology(admin_amqp_url: str) -> None:
    """Declare every exchange, queue, binding and dead-letter queue of every service (admin)."""
    from msgkit.broker import declare_all
    from msgkit.failover import FailoverBroker

    broker = FailoverBroker(admin_amqp_url, log_level=30)
    await broker.connect()
    try:
        await declare_all(broker)
    finally:
        await broker.stop()


async def ensure_broker(
    admin_amqp_url: str,
    *,
    admin: BrokerAdmin | None = None,
    services: tuple[str, ...] = SERVICES,
    clients: tuple[str, ...] = tuple(topology.CLIENTS),
) -> None:
    """Each service's and each client's (topology.CLIENTS) RabbitMQ user with its least-privilege permissions,
    the dead letters' bound, the topology."""
    admin = admin or RabbitmqctlAdmin()
    vhost = vhost_of(admin_amqp_url)

    def one(principal: str) -> None:
        admin.put_user(principal, amqp_password(principal))
        admin.set_permissions(vhost, principal, principal_permissions(principal))

    # rabbitmqctl starts an Erlang VM per call: the users are set up side by side.
    await asyncio.gather(*(asyncio.to_thread(one, p) for p in (*services, *clients)))
    await asyncio.to_thread(admin.set_operator_policy, vhost, DEAD_LETTER_BOUND)
    await declare_broker_topology(admin_amqp_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument(
        "--rabbitmq-url", default=os.environ.get("RABBITMQ_URL"), help="admin AMQP URL, or a cluster's address list"
    )
    parser.add_argument(
        "--rabbitmq-management-url",
        default=os.environ.get("RABBITMQ_MANAGEMENT_URL"),
        help="manage users over the management HTTP API instead of rabbitmqctl",
    )
    args = parser.parse_args()
    if not args.database_url:
        parser.error("DATABASE_URL is not set")
    asyncio.run(ensure_roles(args.database_url, (*SERVICES, *CLIENT_DATABASES)))
    print("database and service roles ready")
    if args.rabbitmq_url:
        admin = ManagementApiAdmin(args.rabbitmq_management_url) if args.rabbitmq_management_url else None
        asyncio.run(ensure_broker(args.rabbitmq_url, admin=admin))
        print("broker users, permissions and topology ready")


if __name__ == "__main__":
    main()
