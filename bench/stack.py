"""The benchmark's world: one fresh database and vhost per run, and per phase the stub and the services as processes.

Phases are kept apart by team codes and by fresh processes (and a fresh stub); each phase ends by
waiting until every queue and outbox is empty, so no phase's leftovers load the next one.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import httpx

from bench.cpu import CpuMeter, parent_of
from clinics_admin.bootstrap import ensure_roles
from clinics_admin.processes import ServiceProcess, service_env
from contracts import topology
from contracts.topology import SERVICES
from msgkit.testing import RabbitServer, free_port, fresh_database, with_vhost

RUN_DIR = Path(".run/bench")


def admin_dsn(database_url: str) -> str:
    """The database as the admin user, for setup and read-only counts (asyncpg's URL form)."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://")


def peak_rss_mb(process: ServiceProcess) -> float:
    """The kernel's high-water mark of the process's resident set (VmHWM), in MB."""
    if process.process is None:
        return 0.0
    try:
        for line in Path(f"/proc/{process.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        return 0.0
    return 0.0


@dataclass(frozen=True)
class World:
    """The run's database (migrated, with one role per service) and vhost."""

    database_url: str
    amqp_url: str
    postmaster: int | None = None  # the PostgreSQL server's process, when it runs on this machine


async def _postmaster(database_url: str) -> int | None:
    conn = await asyncpg.connect(admin_dsn(database_url))
    try:
        backend = int(await conn.fetchval("SELECT pg_backend_pid()"))
        return parent_of(backend)
    finally:
        await conn.close()


@contextmanager
def world(server_url: str, rabbit: RabbitServer) -> Iterator[World]:
    with ExitStack() as exits:
        database_url = exits.enter_context(fresh_database(server_url))
        asyncio.run(ensure_roles(database_url))
        for service in SERVICES:
            env = service_env(service, database_url=database_url, rabbitmq_url="amqp://unused/", port=0)
            subprocess.run([sys.executable, "-m", service, "migrate"], env=env, check=True, capture_output=True)
        amqp_url = exits.enter_context(_vhost(rabbit))
        yield World(database_url, amqp_url, asyncio.run(_postmaster(database_url)))


@contextmanager
def _vhost(rabbit: RabbitServer) -> Iterator[str]:
    vhost = f"bench_{uuid.uuid4().hex[:10]}"
    rabbit.ctl("add_vhost", vhost)
    try:
        rabbit.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield with_vhost(rabbit.url, vhost)
    finally:
        try:
            rabbit.ctl("delete_vhost", vhost)
        except Exception as exc:  # the figures stand; a broker slow to delete is only reported
            print(f"warning: could not delete vhost {vhost}: {exc}", file=sys.stderr)


CALLBACK_TOKEN = "bench-callback-token"
# Notify's own provider stubs post receipts 100-1,000 ms after a send.
CALLBACK_DELAY = 0.2


class Stub:
    """The GOV.UK Notify stub as its own process; with `callback_url` it posts a receipt for every send."""

    def __init__(
        self, log_dir: Path, *, rate_limit_per_minute: int | None = None, callback_url: str | None = None
    ) -> None:
        from notify_stub import make_api_key

        self.api_key = make_api_key("bench")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "notify_stub", "--port", str(self.port), "--api-key", self.api_key]
        if rate_limit_per_minute:
            command += ["--rate-limit-per-minute", str(rate_limit_per_minute)]
        if callback_url:
            command += ["--callback-url", callback_url, "--callback-token", CALLBACK_TOKEN]
            command += ["--callback-delay", str(CALLBACK_DELAY)]
        self._log = (log_dir / "notify-stub.log").open("ab")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_up(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the notify stub exited; see its log")
            try:
                httpx.get(f"{self.url}/_control/stats", timeout=1.0).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise TimeoutError("the notify stub did not start")

    def control(self) -> StubControl:
        """The control API, for use inside one event loop (`async with stub.control() as control`)."""
        return StubControl(self.url)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()


class StubControl:
    def __init__(self, url: str) -> None:
        self._http = httpx.AsyncClient(base_url=url, timeout=30)

    async def __aenter__(self) -> StubControl:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def stats(self) -> dict[str, Any]:
        response = await self._http.get("/_control/stats")
        response.raise_for_status()
        return dict(response.json())

    async def recorded(self) -> int:
        return int((await self.stats())["recorded"])

    async def arrivals(self) -> list[tuple[str, float]]:
        """(recipient, arrival time as a Unix timestamp) of every accepted send, in arrival order."""
        response = await self._http.get("/_control/sent")
        response.raise_for_status()
        sent = response.json()["notifications"]
        return [(s["to"], datetime.fromisoformat(s["received_at"]).timestamp()) for s in sent]


@dataclass
class Stack:
    """What a phase runs against; `services` by name, notify replicas as notify-2, notify-3..."""

    database_url: str
    amqp_url: str
    stub: Stub
    log_dir: Path
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    cpu: CpuMeter | None = None

    def notify_replicas(self) -> list[ServiceProcess]:
        return [p for p in self.services.values() if p.service == "notify"]

    def peak_rss(self) -> dict[str, float]:
        return {name: round(peak_rss_mb(p), 1) for name, p in self.services.items()}


@contextmanager
def stack(
    phase: str,
    the_world: World,
    *,
    notify_env: dict[str, str] | None = None,
    notify_replicas: int = 1,
    stub_rate_limit: int | None = None,
    stub_callbacks: bool = False,
) -> Iterator[Stack]:
    """The stub and the four services (plus notify replicas) started and ready; logs in .run/bench/<phase>/.

    With `stub_callbacks` the stub posts a delivery receipt for every send to the first notify replica.
    """
    log_dir = RUN_DIR / phase
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("*.log"):
        old.unlink()
    with ExitStack() as exits:
        replicas = {s: notify_replicas if s == "notify" else 1 for s in SERVICES}
        ports = {(s, n): free_port() for s in SERVICES for n in range(1, replicas[s] + 1)}
        callbacks = f"http://127.0.0.1:{ports['notify', 1]}/notifications/status" if stub_callbacks else None
        stub = Stub(log_dir, rate_limit_per_minute=stub_rate_limit, callback_url=callbacks)
        exits.callback(stub.stop)
        stub.wait_up()
        notify = {
            "NOTIFY_PROVIDER": "govuk_notify", "NOTIFY_GOVUK_BASE_URL": stub.url, "NOTIFY_GOVUK_API_KEY": stub.api_key,
            "NOTIFY_CALLBACK_TOKEN": CALLBACK_TOKEN, **(notify_env or {}),
        }  # fmt: skip
        processes: dict[str, ServiceProcess] = {}
        for (service, n), port in ports.items():
            name = service if n == 1 else f"{service}-{n}"
            env = service_env(
                service,
                database_url=the_world.database_url,
                rabbitmq_url=the_world.amqp_url,
                port=port,
                extra=notify if service == "notify" else {},
            )
            processes[name] = ServiceProcess(service, env, port, log_dir / f"{name}.log", name=name)
        for p in processes.values():
            p.start()
            exits.callback(p.stop)
        asyncio.run(_all_ready(list(processes.values())))
        yield Stack(the_world.database_url, the_world.amqp_url, stub, log_dir, processes)


async def _all_ready(processes: list[ServiceProcess]) -> None:
    await asyncio.gather(*(p.wait_ready(timeout=180) for p in processes))


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
