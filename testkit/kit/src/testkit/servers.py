"""Isolated real PostgreSQL and RabbitMQ for each test run, and free ports for processes to listen on.

The servers named by DATABASE_URL / RABBITMQ_URL are used when set; otherwise testcontainers
starts them (where a Docker engine exists). Each run gets its own database and its own vhost,
so runs never see each other's rows or messages.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from clinics_admin.bootstrap import local_ctl
from msgkit.db import sync_url
from msgkit.senders import connection_user

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


def admin_user() -> str:
    """The broker user the tests' own messages are sent as (user_id): the admin of the server the tests use,
    which the services accept as an operator (msgkit.senders)."""
    return connection_user(os.environ.get("RABBITMQ_URL") or DEFAULT_RABBITMQ_URL)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(sync_url(url))
    return urlunsplit(parts._replace(path=f"/{name}"))


def with_vhost(url: str, vhost: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{quote(vhost, safe='')}"))


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def postgres_server(stack: ExitStack) -> Iterator[str]:
    url = os.environ.get("DATABASE_URL") or (DEFAULT_DATABASE_URL if _listening(5432) else None)
    if url is None:
        from testcontainers.community.postgres import PostgresContainer  # type: ignore[import-not-found]

        container = stack.enter_context(PostgresContainer("postgres:16", driver=None))
        url = container.get_connection_url()
    yield sync_url(url)


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(with_database(url, "postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    name = f"test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(server_url, name)
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class RabbitServer:
    """A RabbitMQ node the tests may manage: vhosts, and stop_app/start_app for restart tests."""

    def __init__(self, url: str, ctl: Callable[[list[str]], None]) -> None:
        self.url = url
        self._ctl = ctl

    def ctl(self, *args: str) -> None:
        self._ctl(list(args))

    @contextmanager
    def fresh_vhost(self, prefix: str = "t") -> Iterator[str]:
        """A vhost of this run's own (`<prefix>_…`, which .ci/run sweeps up if a run is killed); deleted on exit."""
        vhost = f"{prefix}_{uuid.uuid4().hex[:10]}"
        user = urlsplit(self.url).username or "guest"
        self.ctl("add_vhost", vhost)
        try:
            self.ctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
            yield with_vhost(self.url, vhost)
        finally:
            try:
                self.ctl("delete_vhost", vhost)
            except Exception as exc:  # what ran stands; a broker slow to delete is only reported
                print(f"warning: could not delete vhost {vhost}: {exc}", file=sys.stderr)


@contextmanager
def rabbitmq_server(stack: ExitStack) -> Iterator[RabbitServer]:
    url = os.environ.get("RABBITMQ_URL") or (DEFAULT_RABBITMQ_URL if _listening(5672) else None)
    if url is not None:
        if shutil.which("rabbitmqctl") is None:
            raise RuntimeError("RABBITMQ_URL is set but rabbitmqctl is not on PATH (needed for per-run vhosts)")
        yield RabbitServer(url, local_ctl)
        return
    from testcontainers.community.rabbitmq import RabbitMqContainer  # type: ignore[import-not-found]

    container: Any = stack.enter_context(RabbitMqContainer("rabbitmq:3.13"))
    host, port = container.get_container_host_ip(), container.get_exposed_port(5672)

    def ctl(args: list[str]) -> None:
        code, output = container.exec(["rabbitmqctl", "-q", *args])
        if code != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {output!r}")

    yield RabbitServer(f"amqp://guest:guest@{host}:{port}/", ctl)


# Below Linux's default ephemeral range (32768-60999): a port chosen there by binding port 0 can be
# taken by any outgoing connection (to PostgreSQL, RabbitMQ) before the service binds it, which once
# stopped a test stack with "address already in use".
_LISTEN_PORTS = range(20000, 32768)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on, outside the range outgoing connections draw from."""
    for port in random.sample(_LISTEN_PORTS, 200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 20000-32767 on 127.0.0.1")
