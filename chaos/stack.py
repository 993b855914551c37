"""The system under test: a fresh database and vhost, the Notify stub, and the services as real processes.

notify runs as two replicas (notify-1, notify-2) sharing its database, queues and rate-limit bucket.
The stub's delivery callbacks go to notify-1, as a load balancer would send them to one replica.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from clinics_admin.bootstrap import ensure_roles
from clinics_admin.processes import ServiceProcess, service_env
from contracts.topology import SERVICES
from msgkit.testing import RabbitServer, free_port, fresh_database, postgres_server, rabbitmq_server

CALLBACK_TOKEN = "chaos-callback-token"
READY_TIMEOUT = 120.0
NOTIFY_REPLICAS = ("notify-1", "notify-2")


@dataclass
class Stub:
    """The loopback GOV.UK Notify stub as its own process, and its control API."""

    url: str
    api_key: str
    process: subprocess.Popen[bytes]

    async def control(self, method: str, action: str, body: Any = None) -> Any:
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.request(method, f"{self.url}/_control/{action}", json=body)
            response.raise_for_status()
            return response.json()

    async def sent(self) -> list[dict[str, Any]]:
        return list((await self.control("GET", "sent"))["notifications"])

    async def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = await self.control("GET", "stats")
        stats.pop("per_second", None)
        return stats


@contextmanager
def stub_process(log_path: Path, *, callback_url: str, seed: int) -> Iterator[Stub]:
    from notify_stub import make_api_key

    port, api_key = free_port(), make_api_key()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "notify_stub", "--port", str(port), "--api-key", api_key,
             "--callback-url", callback_url, "--callback-token", CALLBACK_TOKEN, "--seed", str(seed)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    stub = Stub(f"http://127.0.0.1:{port}", api_key, process)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{stub.url}/_control/stats", timeout=1.0).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"the Notify stub did not start; see {log_path}") from None
                time.sleep(0.1)
        yield stub
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Stack:
    database_url: str  # the run's database, as the admin user (read-only use: the final checks)
    amqp_url: str  # the run's vhost
    rabbit: RabbitServer
    stub: Stub
    log_dir: Path
    processes: dict[str, ServiceProcess] = field(default_factory=dict)

    async def wait_all_ready(self, timeout: float = READY_TIMEOUT) -> None:
        await asyncio.gather(*(p.wait_ready(timeout=timeout) for p in self.processes.values()))

    async def readiness(self) -> dict[str, bool]:
        ready: dict[str, bool] = {}
        async with httpx.AsyncClient(timeout=5) as http:
            for name, p in self.processes.items():
                try:
                    response = await http.get(f"{p.base_url}/health/ready")
                    ready[name] = response.status_code == 200 and all(response.json()["checks"].values())
                except httpx.HTTPError:
                    ready[name] = False
        return ready


def _notify_env(stub: Stub, *, stale_seconds: float, postpone_seconds: float) -> dict[str, str]:
    return {
        "NOTIFY_PROVIDER": "govuk_notify",
        "NOTIFY_GOVUK_BASE_URL": stub.url,
        "NOTIFY_GOVUK_API_KEY": stub.api_key,
        "NOTIFY_CALLBACK_TOKEN": CALLBACK_TOKEN,
        # A killed replica's `sending` rows are looked up after this long instead of 120 s, and an
        # invitation whose child details are still on the way waits 10 s instead of 5 min: the run
        # converges sooner, and an early look-up only makes a duplicate more likely, never less.
        "NOTIFY_STALE_SENDING_SECONDS": f"{stale_seconds:g}",
        "NOTIFY_POSTPONE_SECONDS": f"{postpone_seconds:g}",
    }


@contextmanager
def open_stack(
    stack: ExitStack, *, log_dir: Path, seed: int, stale_seconds: float, postpone_seconds: float
) -> Iterator[Stack]:
    """Everything started and migrated; stopped gracefully, and the database and vhost dropped, on exit."""
    server = stack.enter_context(postgres_server(stack))
    database_url = stack.enter_context(fresh_database(server))
    asyncio.run(ensure_roles(database_url))
    rabbit = stack.enter_context(rabbitmq_server(stack))
    amqp_url = stack.enter_context(rabbit.fresh_vhost())
    ports = {name: free_port() for name in (*SERVICES[:-1], *NOTIFY_REPLICAS)}
    callback_url = f"http://127.0.0.1:{ports[NOTIFY_REPLICAS[0]]}/notifications/status"
    stub = stack.enter_context(stub_process(log_dir / "notify-stub.log", callback_url=callback_url, seed=seed))
    notify_extra = _notify_env(stub, stale_seconds=stale_seconds, postpone_seconds=postpone_seconds)
    processes = service_processes(
        ports, database_url=database_url, rabbitmq_url=lambda _: amqp_url, notify_extra=notify_extra, log_dir=log_dir
    )
    result = Stack(database_url, amqp_url, rabbit, stub, log_dir, processes)
    launch(stack, result, migrating=lambda p: p.name != NOTIFY_REPLICAS[1])
    yield result


def service_processes(
    ports: Mapping[str, int],
    *,
    database_url: str,
    rabbitmq_url: Callable[[int], str],
    notify_extra: Mapping[str, str],
    log_dir: Path,
) -> dict[str, ServiceProcess]:
    """A process (not started) per `<service>` or `<service>-<n>` name; `rabbitmq_url(position)` is its broker."""
    processes: dict[str, ServiceProcess] = {}
    for position, (name, port) in enumerate(ports.items()):
        service = name.split("-")[0]
        env = service_env(
            service,
            database_url=database_url,
            rabbitmq_url=rabbitmq_url(position),
            port=port,
            extra=dict(notify_extra) if service == "notify" else None,
        )
        processes[name] = ServiceProcess(
            service=service, env=env, port=port, log_path=log_dir / f"{name}.log", name=name
        )
    return processes


def launch(resources: ExitStack, stack: Stack, *, migrating: Callable[[ServiceProcess], bool]) -> None:
    """Migrate with the chosen processes (one per service), start every one, stop them all on exit."""
    for p in stack.processes.values():
        if migrating(p):
            p.migrate()
    resources.callback(_stop_all, list(stack.processes.values()))
    for p in stack.processes.values():
        p.start()
    asyncio.run(stack.wait_all_ready())


def _stop_all(processes: list[ServiceProcess]) -> None:
    for p in processes:
        p.stop()


def postgres_restart_command() -> list[str]:
    """CHAOS_POSTGRES_RESTART (a command line) if set, else the local cluster's pg_ctlcluster restart."""
    if custom := os.environ.get("CHAOS_POSTGRES_RESTART"):
        return ["/bin/sh", "-c", custom]
    clusters = Path("/etc/postgresql")
    versions = sorted(clusters.iterdir()) if clusters.is_dir() else []
    if not versions:
        raise RuntimeError("no local PostgreSQL cluster to restart; set CHAOS_POSTGRES_RESTART")
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1].name, "main", "restart"]
