"""Helpers for the cohort integration tests: a running app, a client, taps on what cohort publishes."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aio_pika
from faststream.rabbit import RabbitBroker
from sqlalchemy import text

import contracts.cohort
from contracts import topology
from contracts.cohort import CommitCohortImport, FindChildren, ImportCohortChunk, InvitationKind
from contracts.cohort_csv import without_trailing_blank_rows
from contracts.common import Channel, MessageKind, Programme
from contracts.consent import ConsentRecorded, ConsentResponse, ConsentRoute, ConsentStatus
from contracts.envelope import Message, Reply
from contracts.nhs_number import with_check_digit
from contracts.notify import InvitationsScheduled, NotificationsSent, ScheduledInvitation, SentNotification
from contracts.sessions import NotVaccinatedReason, SessionKind, VaccinationOutcome, VaccinationRecorded
from msgkit import rpc
from msgkit.runtime import Runtime
from testkit import published_queue

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cohort_import"
COHORT_EXCHANGES = (topology.events_exchange("cohort"), topology.commands_exchange("cohort"))
CHUNK_ROWS = 2000


def new_team() -> str:
    return "T" + uuid.uuid4().hex[:8].upper()


def read_csv(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """As the CLI reads a file: header, then (spreadsheet row number, cells) up to the last non-blank row."""
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        content = data.decode("iso-8859-1")
    reader = csv.reader(io.StringIO(content, newline=""))
    header = next(reader)
    rows = without_trailing_blank_rows([(n, cells) for n, cells in enumerate(reader, start=2) if cells])
    return header, rows


def fixture_csv(name: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    return read_csv((FIXTURES / name).read_bytes())


HEADER = [
    "CHILD_FIRST_NAME",
    "CHILD_LAST_NAME",
    "CHILD_DATE_OF_BIRTH",
    "CHILD_POSTCODE",
    "CHILD_SCHOOL_URN",
    "CHILD_NHS_NUMBER",
    "PARENT_1_NAME",
    "PARENT_1_RELATIONSHIP",
    "PARENT_1_EMAIL",
    "PARENT_1_PHONE",
]


def nhs_number(seed: int) -> str:
    """A valid NHS number made from a seed (the next stem up where a stem has none)."""
    stem = seed % 10**9
    while (number := with_check_digit(stem)) is None:
        stem = (stem + 1) % 10**9
    return number


def child_row(n: int, *, urn: str, contact: bool = True, seed: int | None = None) -> list[str]:
    s = seed if seed is not None else n
    parent = ["Pat Parent", "Mother", f"p{s}@example.com", "07700 900982"] if contact else ["", "", "", ""]
    return [f"Child{s % 997}", f"Test{s}", "2014-05-06", "LS1 4AP", urn, nhs_number(400_000_000 + 3 * s), *parent]


@dataclass
class Tap:
    """An exclusive queue on cohort's exchanges recording every message cohort publishes.

    Each message is read back with its contract model, so hand-built bulk bodies are checked too.
    """

    messages: list[dict[str, Any]] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)

    def invitations(self, team_ods: str) -> list[dict[str, Any]]:
        return [i for m in self.of_type("InviteToClinic") for i in m["invitations"] if i["team_ods"] == team_ods]

    def of_type(self, name: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == name]

    def snapshots(self, team_ods: str) -> list[dict[str, Any]]:
        return [c for m in self.of_type("ChildrenUpserted") for c in m["children"] if c["team_ods"] == team_ods]


async def open_tap(channel: aio_pika.abc.AbstractChannel) -> Tap:
    tap = Tap()
    queue = await published_queue(channel, "cohort")

    async def record(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            body = json.loads(message.body)
            try:
                getattr(contracts.cohort, body["type"]).model_validate_json(message.body)
            except Exception as exc:  # recorded for the test to assert on, not to stop the consumer
                tap.invalid.append(f"{body.get('type')}: {exc}")
            tap.messages.append(body)

    await queue.consume(record)
    return tap


async def ensure_sink(amqp_url: str) -> None:
    """Stand in for consent's and notify's queues so cohort's mandatory publishes are always routable."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(
            "cohort-tests.sink", durable=True, arguments={"x-max-length": 1, "x-overflow": "drop-head"}
        )
        for name in COHORT_EXCHANGES:
            exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
            await queue.bind(exchange, routing_key="#")


async def ask(client: RabbitBroker, message: Message, timeout: float = 30) -> Reply:
    return await rpc.request(client, message, timeout=timeout)


async def import_rows(
    client: RabbitBroker,
    team_ods: str,
    header: list[str],
    rows: Sequence[tuple[int, list[str]]],
    import_id: uuid.UUID | None = None,
    **commit: Any,
) -> tuple[list[Reply], Reply]:
    """Stream rows in chunks as the CLI does, then commit; returns the chunk replies and the commit reply."""
    import_id = import_id or uuid.uuid4()
    chunks = [rows[i : i + CHUNK_ROWS] for i in range(0, len(rows), CHUNK_ROWS)] or [[]]
    replies = []
    for sequence, chunk in enumerate(chunks):
        message = ImportCohortChunk(
            import_id=import_id, team_ods=team_ods, sequence=sequence, header=header, rows=list(chunk)
        )
        replies.append(await ask(client, message))
    reply = await ask(client, CommitCohortImport(import_id=import_id, team_ods=team_ods, **commit), timeout=120)
    return replies, reply


async def child_ids(client: RabbitBroker, team_ods: str, last_name: str) -> list[uuid.UUID]:
    reply = await ask(client, FindChildren(team_ods=team_ods, last_name=last_name))
    assert reply.ok and reply.data is not None
    return [uuid.UUID(c["child_id"]) for c in reply.data["children"]]


async def scalar(runtime: Runtime, sql: str, **params: Any) -> Any:
    async with runtime.sessions() as session:
        return (await session.execute(text(sql), params)).scalar()


async def import_children(client: RabbitBroker, team_ods: str, rows: Sequence[list[str]]) -> list[uuid.UUID]:
    """Import generated rows (see child_row) and return the children's ids in row order."""
    _, reply = await import_rows(client, team_ods, HEADER, [(n + 2, cells) for n, cells in enumerate(rows)])
    assert reply.ok, reply.error
    ids = []
    for cells in rows:
        found = await ask(client, FindChildren(team_ods=team_ods, nhs_number=cells[5]))
        assert found.data is not None
        ids.append(uuid.UUID(found.data["children"][0]["child_id"]))
    return ids


async def processed(runtime: Runtime, message: Message) -> bool:
    found = await scalar(runtime, "SELECT count(*) FROM processed_messages WHERE message_id = :m", m=message.message_id)
    return bool(found)


def vaccination(
    child_id: uuid.UUID, team_ods: str, *, at: datetime, outcome: str = "vaccinated", programme: str = "flu"
) -> VaccinationRecorded:
    return VaccinationRecorded(
        record_id=uuid.uuid4(),
        child_id=child_id,
        team_ods=team_ods,
        programme=Programme(programme),
        session_id=uuid.uuid4(),
        session_kind=SessionKind.CLINIC,
        academic_year=2025,
        outcome=VaccinationOutcome(outcome),
        reason=None if outcome == "vaccinated" else NotVaccinatedReason.UNWELL,
        performed_at=at,
        recorded_by="Nurse Joy",
        occurred_at=at,
    )


def consent(child_id: uuid.UUID, team_ods: str, *, at: datetime, status: str) -> ConsentRecorded:
    response = ConsentResponse.GIVEN if status == "given" else ConsentResponse.REFUSED
    return ConsentRecorded(
        consent_id=uuid.uuid4(),
        child_id=child_id,
        team_ods=team_ods,
        programme=Programme.FLU,
        academic_year=2025,
        response=response,
        route=ConsentRoute.PHONE,
        recorded_by="Nurse Joy",
        recorded_at=at,
        status=ConsentStatus(status),
        occurred_at=at,
    )


def scheduled(child_id: uuid.UUID, team_ods: str, *, at: datetime, invitation_id: uuid.UUID) -> InvitationsScheduled:
    invitation = ScheduledInvitation(
        invitation_id=invitation_id,
        child_id=child_id,
        team_ods=team_ods,
        programmes=[Programme.FLU],
        academic_year=2025,
        kind=InvitationKind.INITIAL,
        due_at=at + timedelta(days=1),
    )
    return InvitationsScheduled(invitations=[invitation], occurred_at=at)


def sent(
    child_id: uuid.UUID, team_ods: str, *, at: datetime, invitation_id: uuid.UUID, recipient: str
) -> NotificationsSent:
    notification = SentNotification(
        notification_id=uuid.uuid4(),
        invitation_id=invitation_id,
        child_id=child_id,
        team_ods=team_ods,
        kind=MessageKind.CLINIC_INITIAL_INVITATION,
        channel=Channel.SMS if "@" not in recipient else Channel.EMAIL,
        recipient=recipient,
        sent_at=at,
    )
    return NotificationsSent(notifications=[notification], occurred_at=at)
