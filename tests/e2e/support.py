"""Helpers for driving the running services through the contract only; test data from testkit.data."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from faststream.rabbit import RabbitBroker

from contracts.cohort import CommitCohortImport, FindChildren, ImportCohortChunk
from contracts.envelope import Message
from msgkit import rpc
from testkit.data import HEADER, cohort_row, nhs_number


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
        return cohort_row(
            first_name=self.first_name, last_name=self.last_name, nhs=self.nhs, urn=self.urn, born=self.born,
            email=self.parent_email, phone=self.parent_phone,
        )  # fmt: skip


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
