"""The benchmark's world: one fresh database and vhost per run, and per phase the stub and the services as processes.

Phases are kept apart by team codes and by fresh processes (and a fresh stub); each phase ends by
waiting until every queue and outbox is empty, so no phase's leftovers load the next one. The stack itself
is testkit's; what is the benchmark's own is where its logs go and how it waits for quiet.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import aio_pika
import asyncpg

from bench.cpu import parent_of
from contracts import topology
from contracts.topology import SERVICES
from testkit.servers import RabbitServer
from testkit.stack import Stack, World, open_stack
from testkit.stack import world as fresh_world
from testkit.stub import StubOptions

RUN_DIR = Path(".run/bench")
# Notify's own provider stubs post receipts 100-1,000 ms after a send.
CALLBACK_DELAY = 0.2
READY_TIMEOUT = 180.0


def admin_dsn(database_url: str) -> str:
    """The database as the admin user, for setup and read-only counts (asyncpg's URL form)."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://")


@contextmanager
def world(server_url: str, rabbit: RabbitServer) -> Iterator[World]:
    """The run's database, every schema migrated once (phases start fresh processes on it), and its vhost."""
    with fresh_world(server_url=server_url, rabbit=rabbit, vhost="bench", migrated=True) as the_world:
        yield the_world


async def postmaster(database_url: str) -> int | None:
    """The PostgreSQL server's process, when it runs on this machine (its CPU is part of a phase's)."""
    conn = await asyncpg.connect(admin_dsn(database_url))
    try:
        backend = int(await conn.fetchval("SELECT pg_backend_pid()"))
        return parent_of(backend)
    finally:
        await conn.close()


@contextmanager
def stack(
    phase: str,
    the_world: World,
    *,
    notify_env: Mapping[str, str] | None = None,
    notify_replicas: int = 1,
    stub_rate_limit: int | None = None,
    stub_callbacks: bool = False,
    web: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    """The stub and the four services (notify `notify_replicas` times) started and ready; logs in .run/bench/<phase>/.

    With `stub_callbacks` the stub posts a delivery receipt for every send to the first notify replica. With `web`
    (its settings) the consent form runs too.
    """
    log_dir = RUN_DIR / phase
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("*.log"):
        old.unlink()
    stub = StubOptions(callbacks=stub_callbacks, callback_delay=CALLBACK_DELAY, rate_limit_per_minute=stub_rate_limit)
    replicas = {s: notify_replicas if s == "notify" else 1 for s in SERVICES}
    with open_stack(
        the_world,
        log_dir=log_dir,
        replicas=replicas,
        env={"notify": dict(notify_env or {})},
        stub=stub,
        migrated=True,
        ready_timeout=READY_TIMEOUT,
        web=web,
    ) as st:
        yield st


async def quiet(the_world: World, *, timeout: float = 600.0) -> dict[str, int]:
    """Wait until every service queue and outbox is empty (twice in a row); returns dead-lettered counts."""
    deadline, calm = time.monotonic() + timeout, 0
    connection = await aio_pika.connect(the_world.amqp_url)
    db = await asyncpg.connect(admin_dsn(the_world.database_url))
    try:
        channel = await connection.channel()
        while calm < 2:
            if time.monotonic() > deadline:
                raise TimeoutError(f"queues or outboxes still busy after {timeout:g}s")
            backlog = await _ready(channel, [b.queue for b in topology.all_bindings()])
            outboxes = [int(await db.fetchval(f"SELECT count(*) FROM {s}.outbox_messages")) for s in SERVICES]
            calm = calm + 1 if not any(backlog.values()) and not any(outboxes) else 0
            await asyncio.sleep(0.5)
        dead = await _ready(channel, [b.dead_letter_queue for b in topology.all_bindings()])
        return {q: n for q, n in dead.items() if n}
    finally:
        await db.close()
        await connection.close()


async def _ready(channel: aio_pika.abc.AbstractChannel, queues: list[str]) -> dict[str, int]:
    counts = {}
    for name in queues:  # every service declared its queues before it was ready
        declared = await channel.declare_queue(name, passive=True)
        counts[name] = declared.declaration_result.message_count or 0
    return counts
