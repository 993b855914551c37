"""`make dev` where PostgreSQL or RabbitMQ is not running: start a private one, or say in one line why not.

A server that answers at its URL is used as it is (nothing here changes `make dev` where both run). One that
does not answer, on this machine's loopback, is started privately, with its files under `.run/`, and stopped
when the runner stops (its data stays for the next run). For a remote URL nothing is ever started.
Everything is decided before anything starts: a run that cannot have both servers starts neither.

A private server that a killed runner left running is found by its files and used; the next runner to stop
stops it, unless the runner that started it still runs (a second stack on the same server).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Generic, Protocol, TypeVar

from clinics_admin.bootstrap import BrokerAdmin, RabbitmqctlAdmin
from clinics_admin.endpoints import CannotStart, Endpoint, postgres_endpoint, rabbitmq_endpoints
from clinics_admin.private_postgres import PrivatePostgres
from clinics_admin.private_rabbitmq import PrivateRabbit
from msgkit.addresses import AddressError

RUNNER_FILE = "runner.pid"


class PrivateServer(Protocol):
    @property
    def endpoint(self) -> Endpoint: ...

    @property
    def root(self) -> Path: ...

    @property
    def running(self) -> bool: ...

    def start(self) -> float: ...

    def stop(self) -> None: ...


S = TypeVar("S", bound=PrivateServer)


@dataclass(frozen=True, slots=True)
class Decision(Generic[S]):
    """What to do about one URL: `server` is ours (to start, or found running), None for one that is not ours."""

    server: S | None = None
    start: bool = False  # nothing answers: start it here
    adopt: bool = False  # it runs, left by a runner that is gone: stop it when this one stops


def decide(endpoints: Sequence[Endpoint], private: Callable[[], S]) -> Decision[S]:
    """Use what answers; start a private server where nothing does on this machine; CannotStart otherwise."""
    first = endpoints[0]
    if any(e.answers() for e in endpoints):
        if len(endpoints) > 1 or not first.local:
            return Decision()
        try:
            server = private()
        except CannotStart:
            return Decision()  # not one this runner could have started, so not one it left
        if not server.running:
            return Decision()
        return Decision(server, adopt=not _runner_alive(server.root))
    if len(endpoints) > 1 or not first.local:
        raise CannotStart(
            f"{first.kind} does not answer at {first.shown}, which is not on this machine, so make dev starts "
            f"nothing: start it there or set {first.setting}"
        )
    return Decision(private(), start=True)


def _runner_alive(root: Path) -> bool:
    """The dev runner that started the server under `root` still runs (another stack's, using it too)."""
    try:
        pid = int((root / RUNNER_FILE).read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return False
    return pid != os.getpid() and b"clinics_admin.devserver" in command


class LocalServers:
    """`with LocalServers(...) as servers:` the servers the URLs name are running, started here if they were not;
    on leaving, the ones started here are stopped. `rabbitmq_admin` is for bootstrap's `ensure_broker`."""

    def __init__(
        self, database_url: str, rabbitmq_url: str, run_dir: Path, *, say: Callable[[str], None] = print
    ) -> None:
        self._say = say
        self._stack = ExitStack()
        problems: list[str] = []
        self._decisions: list[Decision[PrivatePostgres] | Decision[PrivateRabbit]] = []
        # Only a node of our own needs its own rabbitmqctl (its cookie); None is the machine's node, as ever.
        self.rabbitmq_admin: BrokerAdmin | None = None
        try:
            endpoint = postgres_endpoint(database_url)
            self._decisions.append(decide([endpoint], lambda: PrivatePostgres.for_url(database_url, endpoint, run_dir)))
        except CannotStart as exc:
            problems.append(str(exc))
        try:
            endpoints = rabbitmq_endpoints(rabbitmq_url)
            rabbit = decide(endpoints, lambda: PrivateRabbit.for_url(rabbitmq_url, endpoints[0], run_dir))
            self._decisions.append(rabbit)
            self.rabbitmq_admin = RabbitmqctlAdmin(rabbit.server.ctl) if rabbit.server is not None else None
        except (CannotStart, AddressError) as exc:
            problems.append(str(exc))
        if problems:
            raise CannotStart("\n".join(problems))

    def __enter__(self) -> LocalServers:
        with self._stack:
            for decision in self._decisions:
                if (server := decision.server) is None:
                    continue
                kind, shown, files = server.endpoint.kind, server.endpoint.shown, _shown_path(server.root)
                if decision.start:
                    # Registered before it starts: an interrupted start is stopped too.
                    self._stack.callback(self._stop, server)
                    self._say(f"{kind} is not running at {shown}: starting a private one, its files in {files}")
                    seconds = server.start()
                    self._say(f"{kind}: started in {seconds:.1f}s; stopped when make dev stops")
                elif decision.adopt:
                    self._stack.callback(self._stop, server)
                    self._say(f"{kind} at {shown} is the private one an earlier make dev left running ({files}): "
                              "used, and stopped when make dev stops")  # fmt: skip
                else:
                    continue
                (server.root / RUNNER_FILE).write_text(str(os.getpid()))
            self._stack = self._stack.pop_all()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stack.close()

    def _stop(self, server: PrivateServer) -> None:
        try:
            server.stop()
        except CannotStart as exc:
            self._say(str(exc))
        else:
            self._say(
                f"{server.endpoint.kind}: the private server stopped (its data kept in {_shown_path(server.root)})"
            )


def _shown_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
