"""Helpers for the notify integration tests: message factories, and the harness with notify's own queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

import testkit as testing
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
from contracts.envelope import Message
from contracts.sessions import ClinicDate, ClinicDatesChanged, TeamSettings, TeamUpdated
from notify.delivery.providers import OutboundMessage
from notify.domain.templates import Channel, MessageKind
from notify_stub import make_api_key

# Monday 12 January 2026, 10:00 in London (GMT): inside the default 09:00-19:00 window; year 2025.
NOW = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)
YEAR = 2025
API_KEY = make_api_key("test")


def mobile() -> str:
    # Ofcom's drama range 07700 9xxxxx: always a mobile (a random 07700 number may be no number at all).
    return "077009" + str(uuid.uuid4().int)[:5]


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


# notify's batched events: the list whose items name the child (see testkit.Observer).
BATCHED = {
    "InvitationsScheduled": "invitations",
    "NotificationsSent": "notifications",
    "NotificationsSettled": "notifications",
}


class Harness(testing.Harness):
    """Drives running notify apps only through the contract, and reads notify's rows to assert."""

    async def invitations(self, child_id: uuid.UUID) -> list[Any]:
        return await self.query("SELECT * FROM invitations WHERE child_id = :c ORDER BY created_at", c=child_id)

    async def notifications(self, child_id: uuid.UUID) -> list[Any]:
        return await self.query('SELECT * FROM notifications WHERE child_id = :c ORDER BY channel, "to"', c=child_id)

    async def ledger(self, child_id: uuid.UUID) -> list[Any]:
        return await self.query("SELECT * FROM invitation_ledger WHERE child_id = :c ORDER BY programme", c=child_id)

    async def wait_notifications(self, child_id: uuid.UUID, status: str, count: int) -> list[Any]:
        async def probe() -> list[Any]:
            found = [n for n in await self.notifications(child_id) if n.status == status]
            return found if len(found) >= count else []

        return await testing.eventually(probe, timeout=10, what=f"{count} {status} notifications")

    async def wait_invitation(self, child_id: uuid.UUID, status: str) -> Any:
        async def probe() -> Any:
            found = [i for i in await self.invitations(child_id) if i.status == status]
            return found[0] if found else None

        return await testing.eventually(probe, timeout=10, what=f"a {status} invitation")

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
