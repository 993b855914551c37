"""Helpers for driving the running services through the contract only."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from faststream.rabbit import RabbitBroker

from contracts.cohort import CommitCohortImport, FindChildren, ImportCohortChunk
from contracts.envelope import Message
from msgkit import rpc
from msgkit.testing import free_port

CALLBACK_TOKEN = "e2e-callback-token"
HEADER = [
    "CHILD_FIRST_NAME", "CHILD_LAST_NAME", "CHILD_DATE_OF_BIRTH", "CHILD_NHS_NUMBER", "CHILD_SCHOOL_URN",
    "CHILD_POSTCODE", "PARENT_1_NAME", "PARENT_1_RELATIONSHIP", "PARENT_1_EMAIL", "PARENT_1_PHONE",
]  # fmt: skip


def nhs_number(seed: int) -> str:
    """A valid NHS number (modulus 11) derived from `seed`."""
    while True:
        digits = f"{(900000000 + seed) % 1000000000:09d}"
        total = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True))
        check = 11 - total % 11
        if check == 11:
            return digits + "0"
        if check != 10:
            return digits + str(check)
        seed += 7919


@dataclass
class ChildRow:
    first_name: str
    last_name: str
    urn: str
    nhs: str
    born: date = date(2015, 3, 14)
    parent_email: str | None = None
    parent_phone: str | None = None

    def cells(self) -> list[str]:
        has_parent = bool(self.parent_email or self.parent_phone)
        return [
            self.first_name, self.last_name, self.born.isoformat(), self.nhs, self.urn, "SW1A 1AA",
            "Pat Parent" if has_parent else "", "Mother" if has_parent else "",
            self.parent_email or "", self.parent_phone or "",
        ]  # fmt: skip


def child(seed: int, urn: str, *, last_name: str | None = None, contactable: bool = True) -> ChildRow:
    return ChildRow(
        first_name="Alex",
        last_name=last_name or f"Tester{seed}",
        urn=urn,
        nhs=nhs_number(seed),
        parent_email=f"parent{seed}@example.com" if contactable else None,
        parent_phone="07700900123" if contactable else None,
    )


def csv_text(rows: list[ChildRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(row.cells())
    return buffer.getvalue()


async def ask(client: RabbitBroker, message: Message, *, timeout: float = 30.0) -> dict[str, Any]:
    reply = await rpc.request(client, message, timeout=timeout)
    assert reply.ok, f"{type(message).__name__} refused: {reply.error}"
    return reply.data or {}


async def refusal(client: RabbitBroker, message: Message) -> tuple[str, str]:
    reply = await rpc.request(client, message, timeout=30)
    assert not reply.ok, f"{type(message).__name__} was accepted: {reply.data}"
    assert reply.error is not None
    return reply.error.code, reply.error.message


async def import_rows(
    client: RabbitBroker, team_ods: str, header: list[str], rows: list[list[str]], chunk: int = 2000, **commit: Any
) -> tuple[list[dict[str, Any]], Any]:
    """Stage rows in chunks then commit; returns (row errors, the commit reply)."""
    import_id = uuid.uuid4()
    errors = await stage_rows(client, import_id, team_ods, header, rows, chunk)
    reply = await rpc.request(client, CommitCohortImport(import_id=import_id, team_ods=team_ods, **commit), timeout=600)
    return errors, reply


async def stage_rows(
    client: RabbitBroker,
    import_id: uuid.UUID,
    team_ods: str,
    header: list[str],
    rows: list[list[str]],
    chunk: int = 2000,
) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    numbered = list(enumerate(rows, start=2))
    for sequence, start in enumerate(range(0, max(len(numbered), 1), chunk)):
        message = ImportCohortChunk(
            import_id=import_id,
            team_ods=team_ods,
            sequence=sequence,
            header=header,
            rows=numbered[start : start + chunk],
        )
        errors += (await ask(client, message, timeout=120)).get("errors", [])
    return errors


async def import_children(client: RabbitBroker, team_ods: str, children: list[ChildRow], **commit: Any) -> Any:
    errors, reply = await import_rows(client, team_ods, HEADER, [c.cells() for c in children], **commit)
    assert not errors, errors
    assert reply.ok, reply.error
    return reply.data


async def child_id(client: RabbitBroker, team_ods: str, row: ChildRow) -> uuid.UUID:
    found = (await ask(client, FindChildren(team_ods=team_ods, nhs_number=row.nhs)))["children"]
    assert len(found) == 1, found
    return uuid.UUID(found[0]["child_id"])


class StubServer:
    """The loopback GOV.UK Notify stub, as a separate process, with its control API."""

    def __init__(self, url: str, api_key: str, process: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.api_key = api_key
        self.process = process

    @classmethod
    @contextmanager
    def start(cls, *, log_path: Path, callback_url: str, callback_token: str) -> Iterator[StubServer]:
        from notify_stub import make_api_key

        port = free_port()
        api_key = make_api_key()
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "notify_stub", "--port", str(port), "--api-key", api_key,
                 "--callback-url", callback_url, "--callback-token", callback_token],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        stub = cls(f"http://127.0.0.1:{port}", api_key, process)
        try:
            stub.wait_up()
            yield stub
        finally:
            process.terminate()
            process.wait(timeout=10)

    def wait_up(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/_control/stats", timeout=1.0).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise TimeoutError("notify stub did not start")

    async def sent(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(f"{self.url}/_control/sent")
            response.raise_for_status()
            body = response.json()
            return list(body["notifications"])

    async def set_faults(self, plan: dict[str, Any]) -> None:
        """What the stub does to the next sends instead of accepting them (notify.stub_faults.FaultPlan.configure)."""
        async with httpx.AsyncClient(timeout=5) as client:
            (await client.post(f"{self.url}/_control/faults", json=plan)).raise_for_status()

    async def sent_to(self, address: str) -> list[dict[str, Any]]:
        return [s for s in await self.sent() if address in (s.get("email_address"), s.get("phone_number"), s.get("to"))]
