"""Services as real processes: their environment, start, readiness, kill and stop (`make dev` and testkit's stack)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from clinics_admin.bootstrap import service_amqp_url, service_database_url
from contracts.topology import SERVICES
from msgkit.senders import connection_user

# What a service reads from its environment: `<SERVICE>_*` (see each service's Settings), and these.
SHARED_SETTINGS = ("DATABASE_URL", "RABBITMQ_URL")
SERVICE_PREFIXES = tuple(f"{s.upper()}_" for s in SERVICES)


def service_env(
    service: str,
    *,
    database_url: str,
    rabbitmq_url: str,
    port: int,
    host: str = "127.0.0.1",
    extra: dict[str, str] | None = None,
    amqp_user: bool = False,
) -> dict[str, str]:
    """Environment for one service process connecting as its own database role.

    The caller decides every setting: the arguments, then `extra`. The caller's own environment is
    inherited without any of the services' settings (`<SERVICE>_*`, DATABASE_URL, RABBITMQ_URL), so that
    a developer's environment (a second `make dev` stack's ports, a real provider) never reaches a test
    stack. `make dev` lets the environment win instead: see `clinics_admin.devserver.dev_env`.

    With `amqp_user` it also connects to RabbitMQ as its own least-privilege user (created, with the whole
    topology, by `clinics_admin.bootstrap.ensure_broker` on `rabbitmq_url`, an admin URL) and declares only its own.
    """
    prefix = service.upper()
    env = {k: v for k, v in os.environ.items() if not k.startswith((*SHARED_SETTINGS, *SERVICE_PREFIXES))}
    env.update(
        {
            f"{prefix}_DATABASE_URL": service_database_url(database_url, service),
            f"{prefix}_RABBITMQ_URL": service_amqp_url(rabbitmq_url, service) if amqp_user else rabbitmq_url,
            f"{prefix}_DECLARE_TOPOLOGY": "false" if amqp_user else "true",
            # `rabbitmq_url` is an admin's: the operator whose replays (and tests' messages) every queue accepts.
            f"{prefix}_BROKER_OPERATORS": connection_user(rabbitmq_url),
            f"{prefix}_HTTP_PORT": str(port),
            f"{prefix}_HTTP_HOST": host,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


@dataclass
class ServiceProcess:
    """One service process that can be started, awaited until ready, killed and restarted."""

    service: str
    env: dict[str, str]
    port: int
    log_path: Path
    name: str = ""
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.name = self.name or self.service

    @classmethod
    def from_env(cls, service: str, env: dict[str, str], log_path: Path) -> ServiceProcess:
        """A process listening where its environment says (`<SERVICE>_HTTP_HOST` / `_HTTP_PORT`)."""
        prefix = service.upper()
        port = int(env[f"{prefix}_HTTP_PORT"])
        return cls(service, env, port, log_path, host=env.get(f"{prefix}_HTTP_HOST", "127.0.0.1"))

    @property
    def base_url(self) -> str:
        # A service listening on every address is asked on loopback.
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.service, "serve"], env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def migrate(self) -> None:
        subprocess.run([sys.executable, "-m", self.service, "migrate"], env=self.env, check=True, capture_output=True)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not self.alive:
                    raise RuntimeError(
                        f"{self.name} exited with {self.process and self.process.returncode}; see {self.log_path}"
                    )
                try:
                    response = await client.get(f"{self.base_url}/health/ready")
                    if response.status_code == 200:
                        return
                    last = response.text
                except httpx.HTTPError as exc:
                    last = type(exc).__name__
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready after {timeout}s (last: {last}); see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, in-flight work is cut off."""
        if self.process is not None and self.alive:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait: the graceful path. Returns the exit code (None if it was never started)."""
        if self.process is not None and self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        return None if self.process is None else self.process.returncode

    def rss_mb(self) -> float:
        """The resident set now, in MB (0 when not running)."""
        return self._status_mb("VmRSS")

    def peak_rss_mb(self) -> float:
        """The kernel's high-water mark of the resident set (VmHWM), in MB."""
        return self._status_mb("VmHWM")

    def _status_mb(self, field_name: str) -> float:
        if self.process is None:
            return 0.0
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith(f"{field_name}:"):
                    return int(line.split()[1]) / 1024
        except FileNotFoundError:
            return 0.0
        return 0.0


async def wait_all_ready(processes: Iterable[ServiceProcess], timeout: float = 60.0) -> None:
    await asyncio.gather(*(p.wait_ready(timeout=timeout) for p in processes))


def stop_all(processes: Iterable[ServiceProcess]) -> dict[str, int | None]:
    """SIGTERM to every process side by side (each may take its graceful timeout); their exit codes by name."""
    stopping = list(processes)
    with ThreadPoolExecutor(max_workers=max(1, len(stopping))) as pool:
        codes = list(pool.map(ServiceProcess.stop, stopping))
    return {p.name: code for p, code in zip(stopping, codes, strict=True)}
