"""`make dev` as a real process: a second stack on its own ports, host, database, vhost and log directory.

Not in tests/e2e: that package's stack holds a vhost of the whole topology for as long as its tests run,
and this test's stack holds another (see tests/e2e/conftest.py on RabbitMQ's file descriptors).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from clinics_admin.processes import SERVICE_PREFIXES, SHARED_SETTINGS
from contracts.topology import SERVICES
from testkit import RabbitServer, eventually, free_port, fresh_database, postgres_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="the dev runner sets up users with rabbitmqctl"),
]

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


async def test_make_dev_serves_on_the_ports_and_host_its_environment_names_and_stops_cleanly(
    own_database: str, own_vhost: str, tmp_path: Path
) -> None:
    ports = {s: free_port() for s in SERVICES}
    log_dir = tmp_path / "logs"
    output = tmp_path / "runner.out"
    with output.open("wb") as out:
        runner = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "clinics_admin.devserver",
            env=runner_env(own_database, own_vhost, ports, log_dir),
            cwd=tmp_path,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: the clean-up below can reach the services too
        )
    try:

        async def every_service_ready() -> bool:
            assert runner.returncode is None, f"the runner exited {runner.returncode}: {output.read_text()}"
            statuses = [await answers(f"http://{HOST}:{port}/health/ready") for port in ports.values()]
            return statuses == [200] * len(ports)

        await eventually(every_service_ready, timeout=START_TIMEOUT, interval=0.5, what="every service ready")
        # Bound where the environment said, and not on the runner's default host.
        assert [await answers(f"http://127.0.0.1:{port}/health/live") for port in ports.values()] == [None] * 4
        assert "all services ready" in output.read_text()

        # Ctrl-C. SIGTERM takes the same path (one handler for both); each run costs a minute on two cores.
        runner.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(runner.wait(), timeout=90)
        shown = output.read_text()
        assert code == 0, shown
        assert shown.rstrip().endswith("stopped"), shown  # no service exited uncleanly
        assert [await answers(f"http://{HOST}:{port}/health/live") for port in ports.values()] == [None] * 4
        assert sorted(p.name for p in log_dir.iterdir()) == sorted(f"{s}.log" for s in SERVICES)
        assert not (tmp_path / ".run").exists()
    finally:
        if runner.returncode is None:
            os.killpg(runner.pid, signal.SIGKILL)
            await asyncio.wait_for(runner.wait(), timeout=30)
