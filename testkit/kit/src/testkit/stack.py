"""The services as real processes against a run's own database and vhost: one Stack, however it is opened.

A `World` is where a stack runs: a fresh database with a role and schema per service, a fresh vhost, and the
broker that holds it (`world()` makes one on the run's servers; a RabbitMQ cluster's comes from chaos). On it,
`open_stack` starts the services (each once, or several replicas: `<service>-1`, `<service>-2`, …) with the
GOV.UK Notify stub, migrated and ready, and stops them all on exit. The end-to-end tests, the benchmark, the
fault suites and the national-scale run all open theirs here.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from clinics_admin.bootstrap import CLIENT_DATABASES, RabbitmqctlAdmin, ensure_broker, ensure_roles
from clinics_admin.processes import ServiceProcess, service_env, stop_all, wait_all_ready
from contracts.topology import SERVICES
from testkit.servers import RabbitServer, free_port, fresh_database, postgres_server, rabbitmq_server
from testkit.stub import StubOptions, StubProcess

READY_TIMEOUT = 120.0
WEB = "consent_form"  # the parent-facing web service: a client of the four, started only when asked for


@dataclass(frozen=True)
class World:
    """A run's database (`database_url`, as the admin user) and vhost (`amqp_url`, the admin's; on a cluster its
    address list), and the broker that holds it. Each process is given `addresses(position)` if set (a
    cluster: every node, in another order per process), else `amqp_url`."""

    database_url: str
    amqp_url: str
    rabbit: RabbitServer
    addresses: Callable[[int], str] | None = None

    def broker_for(self, position: int) -> str:
        return self.addresses(position) if self.addresses is not None else self.amqp_url


def migrate(database_url: str, services: tuple[str, ...] = SERVICES) -> None:
    """Each service's schema at head, migrated as the service's own role (no broker is needed for it)."""
    for service in services:
        env = service_env(service, database_url=database_url, rabbitmq_url="amqp://unused/", port=0)
        subprocess.run([sys.executable, "-m", service, "migrate"], env=env, check=True, capture_output=True)


@contextmanager
def service_database(server_url: str | None = None, *, migrated: bool = False) -> Iterator[str]:
    """A fresh database on `server_url` (else the run's server) with every service's role; dropped on exit."""
    with ExitStack() as exits:
        database_url = exits.enter_context(fresh_database(server_url or exits.enter_context(postgres_server(exits))))
        asyncio.run(ensure_roles(database_url))
        if migrated:
            migrate(database_url)
        yield database_url


@contextmanager
def world(
    *, server_url: str | None = None, rabbit: RabbitServer | None = None, vhost: str = "t", migrated: bool = False
) -> Iterator[World]:
    """A fresh database (every schema at head if `migrated`) and a vhost named `<vhost>_…`; both gone on exit."""
    with ExitStack() as exits:
        database_url = exits.enter_context(service_database(server_url, migrated=migrated))
        rabbit = rabbit or exits.enter_context(rabbitmq_server(exits))
        yield World(database_url, exits.enter_context(rabbit.fresh_vhost(vhost)), rabbit)


def process_names(replicas: Mapping[str, int]) -> list[str]:
    """`<service>` for a service run once, `<service>-1`, `<service>-2`, … for one run several times."""
    return [s if n == 1 else f"{s}-{i}" for s, n in replicas.items() for i in range(1, n + 1)]


def service_of(name: str) -> str:
    return name.split("-")[0]


@dataclass
class Stack:
    """The running processes by name, their world, and the Notify stub they send to."""

    world: World
    log_dir: Path
    processes: dict[str, ServiceProcess]
    notify_stub: StubProcess | None = None

    @property
    def database_url(self) -> str:
        return self.world.database_url

    @property
    def amqp_url(self) -> str:
        return self.world.amqp_url

    @property
    def rabbit(self) -> RabbitServer:
        return self.world.rabbit

    @property
    def stub(self) -> StubProcess:
        if self.notify_stub is None:
            raise RuntimeError("this stack was opened without the Notify stub")
        return self.notify_stub

    def replicas(self, service: str) -> list[ServiceProcess]:
        return [p for p in self.processes.values() if p.service == service]

    def peak_rss(self) -> dict[str, float]:
        """Each process's largest resident set so far, in MB."""
        return {name: round(p.peak_rss_mb(), 1) for name, p in self.processes.items()}

    async def wait_all_ready(self, timeout: float = READY_TIMEOUT) -> None:
        await wait_all_ready(self.processes.values(), timeout=timeout)

    async def readiness(self) -> dict[str, bool]:
        """Whether each process answers /health/ready with every check passing."""
        ready: dict[str, bool] = {}
        async with httpx.AsyncClient(timeout=5) as http:
            for name, p in self.processes.items():
                try:
                    response = await http.get(f"{p.base_url}/health/ready")
                    ready[name] = response.status_code == 200 and all(response.json()["checks"].values())
                except httpx.HTTPError:
                    ready[name] = False
        return ready


@contextmanager
def open_stack(
    world: World,
    *,
    log_dir: Path,
    replicas: Mapping[str, int] | None = None,
    env: Mapping[str, Mapping[str, str]] | None = None,
    stub: StubOptions | None = StubOptions(),
    amqp_users: bool = False,
    migrated: bool = False,
    ready_timeout: float = READY_TIMEOUT,
    web: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    """`replicas` of each service (one of every service by default) started and ready; all stopped on exit.

    `env` adds settings per service. With `stub`, notify sends to the Notify stub, whose receipts go to the
    first notify process. With `amqp_users`, each service connects as its own least-privilege RabbitMQ user,
    and the topology is declared once, as the admin. Unless the world is `migrated`, the first process of
    each service migrates its schema before any starts. With `web` (its settings), the consent form runs too,
    as process `consent_form` (its drafts' role and schema made here: `world()` migrates only the four).
    """
    names = process_names(replicas or dict.fromkeys(SERVICES, 1))
    ports = {name: free_port() for name in names}
    with ExitStack() as exits:
        notify = next((n for n in names if service_of(n) == "notify"), None)
        callback = f"http://127.0.0.1:{ports[notify]}/notifications/status" if notify else None
        log = log_dir / "notify-stub.log"
        opened = exits.enter_context(StubProcess.start(log, options=stub, callback_url=callback)) if stub else None
        if amqp_users:
            admin = RabbitmqctlAdmin(lambda args: world.rabbit.ctl(*args))
            asyncio.run(ensure_broker(world.amqp_url, admin=admin))
        extra = {s: dict((env or {}).get(s, {})) for s in SERVICES}
        if opened is not None:
            extra["notify"] = opened.notify_env() | extra["notify"]
        stack = Stack(world, log_dir, _processes(world, ports, extra, log_dir, amqp_users=amqp_users), opened)
        _migrate_and_add_web(stack, None if migrated else _first_of_each(names), web, amqp_users=amqp_users)
        exits.callback(stop_all, stack.processes.values())
        for process in stack.processes.values():
            process.start()
        asyncio.run(stack.wait_all_ready(ready_timeout))
        yield stack


def _processes(
    world: World, ports: Mapping[str, int], extra: Mapping[str, Mapping[str, str]], log_dir: Path, *, amqp_users: bool
) -> dict[str, ServiceProcess]:
    processes: dict[str, ServiceProcess] = {}
    for position, (name, port) in enumerate(ports.items()):
        service = service_of(name)
        env = service_env(
            service,
            database_url=world.database_url,
            rabbitmq_url=world.broker_for(position),
            port=port,
            extra=dict(extra.get(service, {})),
            amqp_user=amqp_users,
        )
        processes[name] = ServiceProcess(service, env, port, log_dir / f"{name}.log", name=name)
    return processes


def _migrate_and_add_web(
    stack: Stack, migrating: list[str] | None, web: Mapping[str, str] | None, *, amqp_users: bool
) -> None:
    for name in migrating or []:
        stack.processes[name].migrate()
    if web is not None:
        stack.processes[WEB] = _web_process(stack.world, dict(web), stack.log_dir, amqp_user=amqp_users)


def _web_process(world: World, env: dict[str, str], log_dir: Path, *, amqp_user: bool) -> ServiceProcess:
    asyncio.run(ensure_roles(world.database_url, CLIENT_DATABASES))
    port = free_port()
    settings = service_env(WEB, database_url=world.database_url, rabbitmq_url=world.amqp_url, port=port, extra=env,
                           amqp_user=amqp_user)  # fmt: skip
    process = ServiceProcess(WEB, settings, port, log_dir / f"{WEB}.log", name=WEB)
    process.migrate()
    return process


def _first_of_each(names: list[str]) -> list[str]:
    return [next(n for n in names if service_of(n) == s) for s in dict.fromkeys(map(service_of, names))]
