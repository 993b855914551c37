"""Helpers for the notify integration tests: message factories, an observer of notify's events, a harness."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

import aio_pika
from faststream.rabbit import RabbitBroker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import topology
from contracts.cohort import (
    ChildrenUpserted,
    ChildSnapshot,
    InvitationKind,
    InvitationRequest,
    InvitationTrigger,
    InviteToClinic,
    JoinReason,
    ParentContact,
)
from contracts.common import Programme
from contracts.envelope import Message, Reply
from contracts.sessions import ClinicDate, ClinicDatesChanged, TeamSettings, TeamUpdated
from msgkit import rpc
from msgkit.clock import FixedClock
from msgkit.testing import eventually
from notify.providers import OutboundMessage
from notify.templates import Channel, MessageKind
from notify_stub import make_api_key

# Monday 12 January 2026, 10:00 in London (GMT): inside the default 09:00-19:00 window; year 2025.
NOW = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)
YEAR = 2025
API_KEY = make_api_key("test")


def new_team() -> str:
    return "T" + uuid.uuid4().hex[:8].upper()


def mobile() -> str:
    return "07700" + str(uuid.uuid4().int)[:6]


def team_updated(ods: str, *, at: datetime, **settings: Any) -> TeamUpdated:
    team = TeamSettings(
        ods_code=ods, name="Leeds SAIS", email="sais@example.com", phone="0113 000 0000",
        booking_url="https://book.example.com/leeds", **settings,
    )  # fmt: skip
    return TeamUpdated(team=team, occurred_at=at)


def parent(*, email: bool = True, phone: bool = True) -> ParentContact:
    pid = uuid.uuid4()
    return ParentContact(
        parent_id=pid, email=f"p{pid.hex[:10]}@example.com" if email else None, phone=mobile() if phone else None
    )


def child(ods: str, *, parents: Sequence[ParentContact] | None = None, **flags: bool) -> ChildSnapshot:
    return ChildSnapshot(
        child_id=uuid.uuid4(),
        team_ods=ods,
        first_name="Ada",
        last_name="Lovelace",
        date_of_birth=date(2014, 5, 1),
        school_urn="888888",
        parents=list(parents) if parents is not None else [parent(), parent(phone=False)],
        **flags,
    )


def clinic_dates(
    ods: str, dates: Sequence[date], *, at: datetime, programmes: Sequence[Programme] = (Programme.FLU,), session=None
) -> ClinicDatesChanged:  # type: ignore[no-untyped-def]
    ordered = sorted(dates)
    return ClinicDatesChanged(
        session_id=session or uuid.uuid4(),
        team_ods=ods,
        programmes=list(programmes),
        academic_year=YEAR,
        dates=[ClinicDate(on=d) for d in ordered],
        first_upcoming_date=ordered[0] if ordered else None,
        last_date=ordered[-1] if ordered else None,
        occurred_at=at,
    )


def request(
    snapshot: ChildSnapshot,
    *,
    programmes: Sequence[Programme] = (Programme.FLU,),
    trigger: InvitationTrigger = InvitationTrigger.AUTOMATIC,
    kind: InvitationKind = InvitationKind.INITIAL,
) -> InvitationRequest:
    return InvitationRequest(
        child_id=snapshot.child_id,
        team_ods=snapshot.team_ods,
        programmes=list(programmes),
        academic_year=YEAR,
        trigger=trigger,
        kind=kind,
        reason=JoinReason.UNKNOWN_SCHOOL if trigger == InvitationTrigger.AUTOMATIC else JoinReason.STAFF_INVITE,
    )


def invite(*requests: InvitationRequest, at: datetime) -> InviteToClinic:
    return InviteToClinic(invitations=list(requests), occurred_at=at)


class Observer:
    """A temporary queue bound to every event notify publishes."""

    def __init__(self, queue: aio_pika.abc.AbstractQueue) -> None:
        self.queue = queue
        self.seen: list[dict[str, Any]] = []

    async def drain(self) -> list[dict[str, Any]]:
        while (message := await self.queue.get(no_ack=True, fail=False)) is not None:
            self.seen.append(json.loads(message.body))
        return self.seen

    def of(self, kind: str, child_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
        found = [m for m in self.seen if m["type"] == kind]
        batched = {
            "InvitationsScheduled": "invitations",
            "NotificationsSent": "notifications",
            "NotificationsSettled": "notifications",
        }
        if kind in batched and child_id is not None:
            return [i for m in found for i in m[batched[kind]] if i["child_id"] == str(child_id)]
        return [m for m in found if child_id is None or m.get("child_id") == str(child_id)]

    async def wait_for(self, kind: str, child_id: uuid.UUID | None = None, count: int = 1) -> list[dict[str, Any]]:
        async def probe() -> list[dict[str, Any]]:
            await self.drain()
            found = self.of(kind, child_id)
            return found if len(found) >= count else []

        return await eventually(probe, timeout=10, what=f"{count} {kind}")


class Harness:
    """Drives running notify apps only through the contract, and reads notify's rows to assert."""

    def __init__(self, client: RabbitBroker, engine: AsyncEngine, clock: FixedClock, observer: Observer) -> None:
        self.client = client
        self.engine = engine
        self.clock = clock
        self.observer = observer
        self.team = new_team()

    async def publish(self, message: Message, *, times: int = 1) -> None:
        route = topology.route_for(type(message))
        for _ in range(times):  # the same message id each time: a redelivery
            await self.client.publish(
                message.model_dump_json().encode(),
                exchange=route.exchange,
                routing_key=route.routing_key,
                content_type="application/json",
                message_id=str(message.message_id),
                persist=True,
            )

    async def ask(self, message: Message) -> Reply:
        return await rpc.request(self.client, message, timeout=10)

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())

    async def processed(self, message: Message) -> bool:
        found = await self.rows("SELECT 1 FROM processed_messages WHERE message_id = :m", m=message.message_id)
        return bool(found)

    async def wait_processed(self, message: Message) -> None:
        await eventually(lambda: self.processed(message), timeout=10, what=f"{type(message).__name__} handled")

    async def invitations(self, child_id: uuid.UUID) -> list[Any]:
        return await self.rows("SELECT * FROM invitations WHERE child_id = :c ORDER BY created_at", c=child_id)

    async def notifications(self, child_id: uuid.UUID) -> list[Any]:
        return await self.rows('SELECT * FROM notifications WHERE child_id = :c ORDER BY channel, "to"', c=child_id)

    async def ledger(self, child_id: uuid.UUID) -> list[Any]:
        return await self.rows("SELECT * FROM invitation_ledger WHERE child_id = :c ORDER BY programme", c=child_id)

    async def wait_notifications(self, child_id: uuid.UUID, status: str, count: int) -> list[Any]:
        async def probe() -> list[Any]:
            found = [n for n in await self.notifications(child_id) if n.status == status]
            return found if len(found) >= count else []

        return await eventually(probe, timeout=10, what=f"{count} {status} notifications")

    async def wait_invitation(self, child_id: uuid.UUID, status: str) -> Any:
        async def probe() -> Any:
            found = [i for i in await self.invitations(child_id) if i.status == status]
            return found[0] if found else None

        return await eventually(probe, timeout=10, what=f"a {status} invitation")

    async def setup_child(
        self, *, dates: Sequence[date] = (), parents: Sequence[ParentContact] | None = None, **flags: bool
    ) -> ChildSnapshot:
        """The team, its clinic dates (if given) and a child, all handled before returning."""
        [snapshot] = await self.setup_children(1, dates=dates, parents=parents, **flags)
        return snapshot

    async def setup_children(
        self, count: int, *, dates: Sequence[date] = (), parents: Sequence[ParentContact] | None = None, **flags: bool
    ) -> list[ChildSnapshot]:
        now = self.clock.now()
        messages: list[Message] = [team_updated(self.team, at=now)]
        if dates:
            messages.append(clinic_dates(self.team, dates, at=now))
        snapshots = [child(self.team, parents=parents, **flags) for _ in range(count)]
        messages.append(ChildrenUpserted(children=snapshots, occurred_at=now))
        for message in messages:
            await self.publish(message)
        for message in messages:
            await self.wait_processed(message)
        return snapshots


def window_time(hour: int, minute: int = 0) -> time:
    return time(hour, minute)


def outbound_message(channel: Channel = Channel.EMAIL, reference: str | None = None) -> OutboundMessage:
    """A composed invitation as a provider receives it."""
    return OutboundMessage(
        reference=reference or str(uuid.uuid4()),
        kind=MessageKind.CLINIC_INITIAL_INVITATION,
        channel=channel,
        to="parent@example.com" if channel is Channel.EMAIL else "+44 7700 900123",
        template_id="626080e2-a56c-48e4-b612-4da628a23c5b",
        personalisation={"child_first_name": "Ada"},
        body="Ada Lovelace can have her flu vaccination",
        subject="Book for Ada Lovelace",
    )
