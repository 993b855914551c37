"""`make dev` as a real process: a second stack on its own ports, host, database, vhost and log directory; on a
machine where PostgreSQL and RabbitMQ are not running, private servers it starts and stops itself.

Not in tests/e2e: that package's stack holds a vhost of the whole topology for as long as its tests run,
and this test's stack holds another (see tests/e2e/conftest.py on RabbitMQ's file descriptors).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from clinics_admin.endpoints import postgres_endpoint, rabbitmq_endpoints
from clinics_admin.private_postgres import PrivatePostgres, postgres_bin
from clinics_admin.private_rabbitmq import PrivateRabbit, rabbitmq_bin
from clinics_admin.processes import SERVICE_PREFIXES, SHARED_SETTINGS
from contracts.topology import SERVICES
from testkit import RabbitServer, eventually, free_port, fresh_database, postgres_server

pytestmark = pytest.mark.e2e
needs_rabbitmqctl = pytest.mark.skipif(
    shutil.which("rabbitmqctl") is None, reason="the dev runner sets up users with rabbitmqctl"
)

# Another loopback address than the default 127.0.0.1: a service found here honoured <SERVICE>_HTTP_HOST.
HOST = "127.0.0.2"
START_TIMEOUT = 180.0


@pytest.fixture
def own_database() -> Iterator[str]:
    with ExitStack() as stack:
        yield stack.enter_context(fresh_database(stack.enter_context(postgres_server(stack))))


@pytest.fixture
def own_vhost(rabbit: RabbitServer) -> Iterator[str]:
    with rabbit.fresh_vhost() as url:
        yield url


def runner_env(database_url: str, rabbitmq_url: str, ports: dict[str, int], log_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith((*SHARED_SETTINGS, *SERVICE_PREFIXES))}
    env.update(DATABASE_URL=database_url, RABBITMQ_URL=rabbitmq_url, DEV_LOG_DIR=str(log_dir), PYTHONUNBUFFERED="1")
    for service, port in ports.items():
        env[f"{service.upper()}_HTTP_PORT"] = str(port)
        env[f"{service.upper()}_HTTP_HOST"] = HOST
    return env


async def answers(url: str) -> int | None:
    """The status of GET url, or None if nothing listens there."""
    async with httpx.AsyncClient(timeout=2.0) as client:
        try:
            return (await client.get(url)).status_code
        except httpx.TransportError:
            return None


def printed(output: Path) -> str:
    return output.read_text()


@asynccontextmanager
async def dev_runner(env: dict[str, str], cwd: Path, output: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """`make dev`'s runner with its output in `output`; killed with its services if the test ends first."""
    with output.open("wb") as out:
        runner = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "clinics_admin.devserver",
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: the clean-up below can reach the services too
        )
    try:
        yield runner
    finally:
        if runner.returncode is None:
            os.killpg(runner.pid, signal.SIGKILL)
            await asyncio.wait_for(runner.wait(), timeout=30)


async def until_every_service_ready(runner: asyncio.subprocess.Process, ports: dict[str, int], output: Path) -> None:
    async def every_service_ready() -> bool:
        assert runner.returncode is None, f"the runner exited {runner.returncode}: {printed(output)}"
        statuses = [await answers(f"http://{HOST}:{port}/health/ready") for port in ports.values()]
        return statuses == [200] * len(ports)

    await eventually(every_service_ready, timeout=START_TIMEOUT, interval=0.5, what="every service ready")


async def ctrl_c(runner: asyncio.subprocess.Process, ports: dict[str, int], output: Path) -> str:
    """Ctrl-C (SIGTERM takes the same path: one handler for both); what the runner printed. Each run costs a
    minute on two cores."""
    runner.send_signal(signal.SIGINT)
    code = await asyncio.wait_for(runner.wait(), timeout=120)
    shown = printed(output)
    assert code == 0, shown
    assert [await answers(f"http://{HOST}:{port}/health/live") for port in ports.values()] == [None] * 4
    return shown


@needs_rabbitmqctl
async def test_make_dev_serves_on_the_ports_and_host_its_environment_names_and_stops_cleanly(
    own_database: str, own_vhost: str, tmp_path: Path
) -> None:
    ports = {s: free_port() for s in SERVICES}
    log_dir, output = tmp_path / "logs", tmp_path / "runner.out"
    async with dev_runner(runner_env(own_database, own_vhost, ports, log_dir), tmp_path, output) as runner:
        await until_every_service_ready(runner, ports, output)
        # Bound where the environment said, and not on the runner's default host.
        assert [await answers(f"http://127.0.0.1:{port}/health/live") for port in ports.values()] == [None] * 4
        assert "all services ready" in output.read_text()
        shown = await ctrl_c(runner, ports, output)
    assert shown.rstrip().endswith("stopped"), shown  # no service exited uncleanly
    assert "private" not in shown  # both servers answered: nothing was started
    assert sorted(p.name for p in log_dir.iterdir()) == sorted(f"{s}.log" for s in SERVICES)
    assert not (tmp_path / ".run").exists()


# --- where the servers are not running --------------------------------------------------------------------


@dataclass(frozen=True)
class NothingRunning:
    """URLs on local ports nothing listens on, and a working directory for the runner."""

    dir: Path
    database_url: str
    rabbitmq_url: str


def postgres_runs_here() -> bool:
    if postgres_bin() is None:
        return False
    try:
        return os.geteuid() != 0 or bool(pwd.getpwnam("postgres"))
    except KeyError:
        return False


@pytest.fixture
def nothing_running() -> Iterator[NothingRunning]:
    """The working directory is one the postgres user reaches too (PostgreSQL will not run as root, and pytest's
    tmp_path is root's alone). Any private server a failed test left there is stopped before it is removed."""
    path = Path(tempfile.mkdtemp(prefix="clinics-dev-"))
    path.chmod(0o755)
    urls = NothingRunning(
        path, f"postgresql://postgres@127.0.0.1:{free_port()}/clinics", f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    )
    yield urls
    run_dir = path / ".run"
    try:
        for server in (
            PrivatePostgres.for_url(urls.database_url, postgres_endpoint(urls.database_url), run_dir),
            PrivateRabbit.for_url(urls.rabbitmq_url, rabbitmq_endpoints(urls.rabbitmq_url)[0], run_dir),
        ):
            if server.running:
                server.stop()
    finally:
        shutil.rmtree(path, ignore_errors=True)


def ours_still_running(path: Path) -> list[str]:
    """Processes whose command line names a file under `path` (a private server's data directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if entry.name.isdigit() and str(path) in command:
            found.append(f"{entry.name}: {command[:200]}")
    return found


@pytest.mark.skipif(not postgres_runs_here(), reason="PostgreSQL's server programs are not installed")
@pytest.mark.skipif(rabbitmq_bin() is None, reason="rabbitmq-server is not installed")
async def test_make_dev_starts_private_servers_where_none_answers_and_stops_them_when_it_stops(
    nothing_running: NothingRunning,
) -> None:
    where = nothing_running
    ports = {s: free_port() for s in SERVICES}
    pg_port, amqp_port = postgres_endpoint(where.database_url).port, rabbitmq_endpoints(where.rabbitmq_url)[0].port
    output = where.dir / "runner.out"
    env = runner_env(where.database_url, where.rabbitmq_url, ports, where.dir / "logs")
    async with dev_runner(env, where.dir, output) as runner:
        # Ready means each service reached its database and broker: the private ones, nothing else listens there.
        await until_every_service_ready(runner, ports, output)
        shown = output.read_text()
        assert (
            f"PostgreSQL is not running at {where.database_url}: starting a private one, its files in "
            f".run/postgres-{pg_port}"
        ) in shown
        assert (
            f"RabbitMQ is not running at amqp://guest:***@127.0.0.1:{amqp_port}/: starting a private one, its files "
            f"in .run/rabbitmq-{amqp_port}"
        ) in shown
        assert ours_still_running(where.dir)  # the servers' processes name their data directories
        shown = await ctrl_c(runner, ports, output)
    assert "PostgreSQL: the private server stopped" in shown and "RabbitMQ: the private server stopped" in shown
    assert not postgres_endpoint(where.database_url).answers()
    assert not rabbitmq_endpoints(where.rabbitmq_url)[0].answers()
    assert ours_still_running(where.dir) == []
    assert (where.dir / f".run/postgres-{pg_port}/data/PG_VERSION").exists()  # kept for the next run


@pytest.mark.parametrize("missing", ["postgres", "rabbitmq"])
def test_make_dev_says_in_one_line_what_to_install_where_it_cannot_start_a_server(
    nothing_running: NothingRunning, missing: str
) -> None:
    where = nothing_running
    env = runner_env(where.database_url, where.rabbitmq_url, {s: free_port() for s in SERVICES}, where.dir / "logs")
    # An empty directory where the server programs would be: as on a machine without them.
    hidden = where.dir / "no-programs"
    hidden.mkdir()
    env["DEV_POSTGRES_BIN" if missing == "postgres" else "CLUSTER_RABBITMQ_BIN"] = str(hidden)
    done = subprocess.run(
        [sys.executable, "-m", "clinics_admin.devserver"], env=env, cwd=where.dir, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    said = done.stdout + done.stderr
    assert done.returncode == 1, said
    assert "Traceback" not in said
    (line,) = said.splitlines()
    if missing == "postgres":
        assert line.startswith(f"make dev: PostgreSQL is not running at {where.database_url} and ")
        assert "apt-get install postgresql" in line and "DATABASE_URL" in line
    else:
        assert line.startswith("make dev: RabbitMQ is not running at amqp://guest:***@127.0.0.1:")
        assert "apt-get install rabbitmq-server" in line and "RABBITMQ_URL" in line
    # The server that could have been started was not: a run that cannot have both starts neither.
    assert not (where.dir / ".run").exists()
