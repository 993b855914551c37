"""What every step of `clinics demo` shares: the run (team, children, report) and waiting for effects."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from clinics_cli import output
from clinics_cli.client import EXIT_TIMEOUT, Client, CliError
from contracts import cohort
from contracts.common import Programme
from msgkit.clock import SystemClock, london_today

FLU = [Programme.FLU]
NURSE = "Nurse Demo"
WAIT_SECONDS = 60.0


@dataclass
class Demo:
    """One run: the team it made, the children it knows by NHS number, and what it reports at the end."""

    client: Client
    as_json: bool
    ods: str = field(default_factory=lambda: "DEMO" + uuid.uuid4().hex[:4].upper())
    today: date = field(default_factory=lambda: london_today(SystemClock()))
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)

    def say(self, text: str) -> None:
        if not self.as_json:
            output.say(f"» {text}")

    def named(self, urn: str, nth: int = 0) -> list[str]:
        return [cells for _, cells in self.rows if cells[4] == urn][nth]

    async def child(self, cells: list[str]) -> uuid.UUID:
        if cells[3] not in self.ids:
            found = await self.client.ask(cohort.FindChildren(team_ods=self.ods, nhs_number=cells[3]))
            self.ids[cells[3]] = uuid.UUID(found["children"][0]["child_id"])
        return self.ids[cells[3]]


async def eventually(
    ask: Callable[[], Awaitable[dict[str, Any]]], ready: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    """Ask until the answer is ready; the services work asynchronously, so their effects arrive soon after."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        data = await ask()
        if ready(data):
            return data
        if time.monotonic() > deadline:
            raise CliError(f"gave up after {WAIT_SECONDS:g}s waiting for {what}: are all four services running?",
                           EXIT_TIMEOUT)  # fmt: skip
        await asyncio.sleep(0.2)
