"""The GOV.UK Notify stub (testkit/notify-stub) as a process of its own, and its control API.

One process per stack: the end-to-end tests, the benchmark and the fault suite all send to it, and read
back what it accepted (`sent`, `arrivals`), how it answered (`stats`), and tell it what faults to inject.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from testkit.servers import free_port

# The bearer token the stub's delivery receipts carry, and notify is told to expect.
CALLBACK_TOKEN = "testkit-callback-token"


@dataclass(frozen=True, slots=True)
class StubOptions:
    """How a stack's stub behaves: receipts for every send (after `callback_delay` seconds), a rate limit
    (429 beyond it), and the seed of its random faults."""

    callbacks: bool = True
    callback_delay: float | None = None
    rate_limit_per_minute: int | None = None
    seed: int | None = None

    def arguments(self, callback_url: str | None) -> list[str]:
        args: list[str] = []
        if self.callbacks and callback_url:
            args += ["--callback-url", callback_url, "--callback-token", CALLBACK_TOKEN]
            if self.callback_delay is not None:
                args += ["--callback-delay", f"{self.callback_delay:g}"]
        if self.rate_limit_per_minute:
            args += ["--rate-limit-per-minute", str(self.rate_limit_per_minute)]
        if self.seed is not None:
            args += ["--seed", str(self.seed)]
        return args


class StubControl:
    """The control API over one HTTP connection, for polling in a loop (`async with stub.control() as c`)."""

    def __init__(self, url: str) -> None:
        self._http = httpx.AsyncClient(base_url=url, timeout=30)

    async def __aenter__(self) -> StubControl:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def call(self, method: str, action: str, body: Any = None) -> Any:
        response = await self._http.request(method, f"/_control/{action}", json=body)
        response.raise_for_status()
        return response.json()

    async def stats(self) -> dict[str, Any]:
        return dict(await self.call("GET", "stats"))

    async def recorded(self) -> int:
        """How many sends the stub has accepted."""
        return int((await self.stats())["recorded"])

    async def sent(self) -> list[dict[str, Any]]:
        return list((await self.call("GET", "sent"))["notifications"])

    async def arrivals(self) -> list[tuple[str, float]]:
        """(recipient, arrival time as a Unix timestamp) of every accepted send, in arrival order."""
        return [(s["to"], datetime.fromisoformat(s["received_at"]).timestamp()) for s in await self.sent()]

    async def set_faults(self, plan: dict[str, Any]) -> None:
        """What the stub does to the next sends instead of accepting them (notify_stub.faults.FaultPlan.configure)."""
        await self.call("POST", "faults", plan)


@dataclass
class StubProcess:
    """A running stub: where it listens, the API key it accepts; one-off control calls (`control()` for many)."""

    url: str
    api_key: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    @contextmanager
    def start(
        cls, log_path: Path, *, options: StubOptions = StubOptions(), callback_url: str | None = None
    ) -> Iterator[StubProcess]:
        """Started and answering; terminated on exit."""
        from notify_stub import make_api_key

        port, api_key = free_port(), make_api_key()
        command = [sys.executable, "-m", "notify_stub", "--port", str(port), "--api-key", api_key]
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [*command, *options.arguments(callback_url)], stdout=log, stderr=subprocess.STDOUT
            )
        stub = cls(f"http://127.0.0.1:{port}", api_key, process, log_path)
        try:
            stub.wait_up()
            yield stub
        finally:
            stub.stop()

    def wait_up(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                httpx.get(f"{self.url}/_control/stats", timeout=1.0).raise_for_status()
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"the Notify stub did not start; see {self.log_path}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def notify_env(self) -> dict[str, str]:
        """What notify needs to send to this stub and to accept its receipts."""
        return {
            "NOTIFY_PROVIDER": "govuk_notify",
            "NOTIFY_GOVUK_BASE_URL": self.url,
            "NOTIFY_GOVUK_API_KEY": self.api_key,
            "NOTIFY_CALLBACK_TOKEN": CALLBACK_TOKEN,
        }

    def control(self) -> StubControl:
        return StubControl(self.url)

    async def stats(self) -> dict[str, Any]:
        async with self.control() as control:
            return await control.stats()

    async def sent(self) -> list[dict[str, Any]]:
        async with self.control() as control:
            return await control.sent()

    async def set_faults(self, plan: dict[str, Any]) -> None:
        async with self.control() as control:
            await control.set_faults(plan)

    async def sent_to(self, address: str) -> list[dict[str, Any]]:
        """The accepted sends to `address` (an email or a phone number, as notify sent it)."""
        return [s for s in await self.sent() if address in (s.get("email_address"), s.get("phone_number"), s.get("to"))]
