"""Every handler delivered three times has one effect; parent messages; the invitation status query."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.cohort import ChildRemovedFromClinicCohort, ChildrenUpserted, InvitationKind, InvitationTrigger
from contracts.common import MessageKind, Programme
from contracts.consent import SendParentMessage
from contracts.envelope import Message
from contracts.notify import GetInvitationStatus
from notify_stub import NotifyStub

from ..notify_support import Harness, child, clinic_dates, invite, parent, request, team_updated
from .test_dispatch import refused, vaccinated

pytestmark = pytest.mark.integration

Check = Callable[[], Awaitable[None]]
Scenario = Callable[[Harness], Awaitable[tuple[Message, Message, Check]]]


async def scheduled_child(harness: Harness, dates: list[date] | None = None):  # type: ignore[no-untyped-def]
    kid = await harness.setup_child(dates=[date(2026, 3, 1)] if dates is None else dates)
    command = invite(request(kid), at=harness.clock.now())
    await harness.publish(command)
    await harness.wait_processed(command)
    return kid


def count(harness: Harness, kind: str, kid_id: uuid.UUID, expected: int) -> Check:
    async def check() -> None:
        await harness.observer.drain()
        assert len(harness.observer.of(kind, kid_id)) == expected

    return check


async def team_updated_twice(harness: Harness) -> tuple[Message, Message, Check]:
    kid = await scheduled_child(harness)
    message = team_updated(harness.team, at=harness.clock.now(), days_before_invitations=7)
    marker = team_updated(kid.team_ods + "X", at=harness.clock.now())
    return message, marker, count(harness, "InvitationsScheduled", kid.child_id, 2)


async def clinic_dates_changed(harness: Harness) -> tuple[Message, Message, Check]:
    kid = await scheduled_child(harness, dates=[])
    message = clinic_dates(harness.team, [date(2026, 3, 1)], at=harness.clock.now())
    marker = clinic_dates(harness.team + "X", [date(2026, 3, 1)], at=harness.clock.now())
    return message, marker, count(harness, "InvitationsScheduled", kid.child_id, 2)


async def children_upserted(harness: Harness) -> tuple[Message, Message, Check]:
    kid = await scheduled_child(harness)
    later = harness.clock.now() + timedelta(seconds=1)
    message = ChildrenUpserted(children=[kid.model_copy(update={"restricted": True})], occurred_at=later)
    marker = ChildrenUpserted(children=[child(harness.team)], occurred_at=later)
    return message, marker, count(harness, "InvitationCancelled", kid.child_id, 1)


async def child_removed(harness: Harness) -> tuple[Message, Message, Check]:
    kid = await scheduled_child(harness)
    message = ChildRemovedFromClinicCohort(child_id=kid.child_id, team_ods=kid.team_ods, academic_year=2025, reason="x")
    marker = ChildRemovedFromClinicCohort(child_id=uuid.uuid4(), team_ods=kid.team_ods, academic_year=2025, reason="x")
    return message, marker, count(harness, "InvitationCancelled", kid.child_id, 1)


async def vaccination_recorded(harness: Harness) -> tuple[Message, Message, Check]:
    kid = await scheduled_child(harness)
    return (
        vaccinated(kid.child_id, kid.team_ods),
        vaccinated(uuid.uuid4(), kid.team_ods),
        count(harness, "InvitationCancelled", kid.child_id, 1),
    )


async def consent_recorded(harness: Harness) -> tuple[Message, Message, Check]:
    kid = await scheduled_child(harness)
    return (
        refused(kid.child_id, kid.team_ods),
        refused(uuid.uuid4(), kid.team_ods),
        count(harness, "InvitationCancelled", kid.child_id, 1),
    )


async def invite_to_clinic(harness: Harness) -> tuple[Message, Message, Check]:
    kid = await harness.setup_child()
    repeat = request(kid, trigger=InvitationTrigger.STAFF, kind=InvitationKind.SUBSEQUENT)

    async def check() -> None:
        assert [i.kind for i in await harness.invitations(kid.child_id)] == ["subsequent"]

    marker = invite(request(child(harness.team)), at=harness.clock.now())
    return invite(repeat, at=harness.clock.now()), marker, check


def parent_message(kid_id: uuid.UUID, team: str, kind: MessageKind = MessageKind.CONSENT_CLINIC_REQUEST, **kw):  # type: ignore[no-untyped-def]
    return SendParentMessage(
        child_id=kid_id, team_ods=team, kind=kind, programmes=[Programme.FLU], academic_year=2025,
        requested_by="nurse", **kw,
    )  # fmt: skip


async def send_parent_message(harness: Harness) -> tuple[Message, Message, Check]:
    kid, other = await harness.setup_children(2)

    async def check() -> None:
        sent = await harness.wait_notifications(kid.child_id, "sent", 3)
        assert len(await harness.notifications(kid.child_id)) == len(sent) == 3

    return parent_message(kid.child_id, kid.team_ods), parent_message(other.child_id, other.team_ods), check


@pytest.mark.parametrize(
    "scenario",
    [
        team_updated_twice,
        clinic_dates_changed,
        children_upserted,
        child_removed,
        vaccination_recorded,
        consent_recorded,
        invite_to_clinic,
        send_parent_message,
    ],
)
@pytest.mark.usefixtures("app")
async def test_duplicate_delivery_has_one_effect(harness: Harness, scenario: Scenario) -> None:
    message, marker, check = await scenario(harness)
    await harness.publish(message, times=3)  # copies are handled concurrently: claims serialise on the inbox row
    await harness.wait_processed(message)
    await harness.publish(marker)  # delivered after the copies, so handled once they have been let through
    await harness.wait_processed(marker)
    await check()


@pytest.mark.usefixtures("app")
async def test_parent_message_goes_to_contactable_parents_now(harness: Harness, stub: NotifyStub) -> None:
    opted_out = parent()
    kid = await harness.setup_child(parents=[opted_out, parent(phone=False), parent(email=False, phone=False)])
    only_email = parent_message(kid.child_id, kid.team_ods, MessageKind.CONSENT_CONFIRMATION_GIVEN, sms=False)
    await harness.publish(only_email)
    sent = await harness.wait_notifications(kid.child_id, "sent", 2)
    assert sorted(n.channel for n in sent) == ["email", "email"]
    assert {n.invitation_id for n in sent} == {None}
    one = parent_message(kid.child_id, kid.team_ods, parent_id=opted_out.parent_id)
    await harness.publish(one)
    await harness.wait_notifications(kid.child_id, "sent", 4)
    assert sorted(s.to for s in stub.sent[2:]) == sorted([opted_out.email, opted_out.phone])


@pytest.mark.usefixtures("app")
async def test_parent_message_is_not_sent_for_a_restricted_child(harness: Harness) -> None:
    kid = await harness.setup_child(restricted=True)
    message = parent_message(kid.child_id, kid.team_ods)
    await harness.publish(message)
    await harness.wait_processed(message)
    assert await harness.notifications(kid.child_id) == []


@pytest.mark.usefixtures("app")
async def test_invitation_status_lists_invitations_and_messages(harness: Harness) -> None:
    kid = await harness.setup_child(dates=[date(2026, 1, 20)], parents=[parent(phone=False)])
    await harness.publish(invite(request(kid), at=harness.clock.now()))
    await harness.wait_notifications(kid.child_id, "sent", 1)
    reply = await harness.ask(GetInvitationStatus(child_id=kid.child_id))
    assert reply.ok and reply.data is not None
    [invitation] = reply.data["invitations"]
    assert (invitation["status"], invitation["programmes"], invitation["due_at"]) == (
        "sent",
        ["flu"],
        datetime(2026, 1, 12, 10, 0, tzinfo=UTC).isoformat(),
    )
    [message] = reply.data["notifications"]
    assert (message["status"], message["channel"], message["invitation_id"]) == (
        "sent",
        "email",
        invitation["invitation_id"],
    )
    unknown = await harness.ask(GetInvitationStatus(child_id=uuid.uuid4()))
    assert not unknown.ok and unknown.error is not None and unknown.error.code == "not_found"
