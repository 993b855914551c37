"""Activity logs, clinic children lists and duplicate deliveries of every event cohort consumes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker
from sqlalchemy import text

from contracts.cohort import ClinicChildrenFilter, FindChildren, GetActivityLog, ListClinicChildren, SetChildFlags
from contracts.common import Channel, MessageKind, Programme
from contracts.consent import ConsentRequested
from contracts.envelope import Message
from contracts.notify import (
    DeliveryStatus,
    InvitationCancelled,
    NotificationCancelled,
    NotificationsSent,
    NotificationsSettled,
    SettledNotification,
)
from contracts.sessions import ClinicDatesChanged, SchoolSessionChanged, TeamSettings, TeamUpdated
from msgkit.clock import readable
from msgkit.runtime import Runtime
from testkit import eventually, publish

from ..cohort_support import (
    ask,
    child_row,
    consent,
    import_children,
    new_team,
    processed,
    scalar,
    scheduled,
    sent,
    vaccination,
)

pytestmark = pytest.mark.integration

# Later than the import's own "joined" entry, which is stamped with the real time of the commit.
LATER = datetime.now(UTC) + timedelta(days=1)


async def activity(client: RabbitBroker, child: uuid.UUID) -> list[dict[str, Any]]:
    reply = await ask(client, GetActivityLog(child_id=child))
    assert reply.ok and reply.data is not None, reply.error
    return list(reply.data["entries"])


async def test_activity_log_is_in_time_order_whatever_the_arrival_order(client: RabbitBroker, runtime: Runtime) -> None:
    team = new_team()
    [child] = await import_children(client, team, [child_row(1, urn="888888", seed=2_000)])
    invitation_id = uuid.uuid4()
    at = [LATER + timedelta(minutes=n) for n in range(8)]
    events: list[Message] = [
        sent(child, team, at=at[2], invitation_id=invitation_id, recipient="parent@example.com"),
        scheduled(child, team, at=at[1], invitation_id=invitation_id),
        NotificationsSettled(
            notifications=[
                _settled(child, Channel.SMS, DeliveryStatus.PERMANENT_FAILURE, "not a UK mobile", at=at[4]),
                _settled(child, Channel.EMAIL, DeliveryStatus.DELIVERED, None, at=at[3]),
            ],
            occurred_at=at[4],
        ),
        NotificationCancelled(
            notification_id=uuid.uuid4(),
            child_id=child,
            kind=MessageKind.CONSENT_CLINIC_REQUEST,
            channel=Channel.EMAIL,
            reason="consent already given",
            occurred_at=at[6] + timedelta(seconds=1),
        ),
        vaccination(child, team, at=at[7]),
        consent(child, team, at=at[6], status="given"),
        ConsentRequested(
            child_id=child,
            team_ods=team,
            programmes=[Programme.FLU],
            academic_year=2025,
            requested_by="Nurse Joy",
            occurred_at=at[5],
        ),
        InvitationCancelled(
            invitation_id=uuid.uuid4(),
            child_id=child,
            team_ods=team,
            programmes=[Programme.FLU],
            reason="vaccinated",
            occurred_at=at[7] + timedelta(seconds=1),
        ),
    ]
    for event in events:
        await publish(client, event)
    for event in events:
        await eventually(lambda e=event: processed(runtime, e), what=type(event).__name__)

    entries = await activity(client, child)
    assert [e["kind"] for e in entries] == [
        "joined_clinic_cohort",
        "invitation_scheduled",
        "notification_sent",
        "notification_delivered",
        "notification_failed",
        "consent_requested",
        "consent_recorded",
        "notification_cancelled",
        "vaccination_recorded",
        "invitation_cancelled",
    ]
    assert entries[0]["text"].endswith("(2025/26): school unknown")
    # The due time went through PostgreSQL's JSONB and back: it reads as London time, its data stays ISO.
    due = at[1] + timedelta(days=1)
    assert entries[1]["text"] == f"Clinic initial invitation for Flu scheduled for {readable(due)}"
    assert datetime.fromisoformat(entries[1]["details"]["due_at"]) == due
    # In full: staff tell a child's parents apart by it (issue 19 item 13).
    assert entries[2]["text"] == "Clinic initial invitation sent by email to parent@example.com"
    assert entries[7]["text"] == "Consent request by email cancelled: consent already given"
    assert entries[9]["text"] == "Clinic invitation for Flu cancelled: vaccinated"

    await ask(client, SetChildFlags(child_id=child, restricted=True, changed_by="t"))
    hidden = (await activity(client, child))[2]
    assert hidden["text"] == "Clinic initial invitation sent by email to (hidden)"
    assert hidden["details"]["recipient"] == "(hidden)"
    stored = "SELECT count(*) FROM activity_log WHERE child_id = :c AND details::text LIKE '%parent@%'"
    assert await scalar(runtime, stored, c=child) == 0


def _settled(
    child: uuid.UUID, channel: Channel, status: DeliveryStatus, reason: str | None, *, at: datetime = LATER
) -> SettledNotification:
    return SettledNotification(
        notification_id=uuid.uuid4(), child_id=child, kind=MessageKind.CLINIC_INITIAL_INVITATION,
        channel=channel, status=status, reason=reason, settled_at=at,
    )  # fmt: skip


async def test_a_batch_of_sends_logs_each_child_and_hides_the_restricted_one(
    client: RabbitBroker, runtime: Runtime
) -> None:
    team = new_team()
    rows = [child_row(n, urn="888888", seed=2_500 + n) for n in (1, 2, 3)]
    open_, hidden, twice = await import_children(client, team, rows)
    await ask(client, SetChildFlags(child_id=hidden, restricted=True, changed_by="t"))
    invitations = {child: uuid.uuid4() for child in (open_, hidden, twice)}
    parts = [
        sent(child, team, at=LATER, invitation_id=invitations[child], recipient=to).notifications[0]
        for child, to in [
            (open_, "open@example.com"), (hidden, "hidden@example.com"), (twice, "twice@example.com"),
            (twice, "07700 900983"),
        ]
    ]  # fmt: skip
    batch = NotificationsSent(notifications=parts, occurred_at=LATER)
    await publish(client, batch)
    await eventually(lambda: processed(runtime, batch), what="the batch")

    logged = {
        child: [e for e in await activity(client, child) if e["kind"] == "notification_sent"] for child in invitations
    }
    assert [e["text"] for e in logged[open_]] == ["Clinic initial invitation sent by email to open@example.com"]
    assert [e["details"]["recipient"] for e in logged[hidden]] == ["(hidden)"]
    # A child's two contacts are told apart.
    assert sorted(e["details"]["recipient"] for e in logged[twice]) == ["07700 900983", "twice@example.com"]
    stored = "SELECT count(*) FROM activity_log WHERE details::text LIKE '%hidden@%'"
    assert await scalar(runtime, stored) == 0
    marked = "SELECT count(*) FROM invitations WHERE team_ods = :t AND sent"
    assert await scalar(runtime, marked, t=team) == 3


async def test_settled_notifications_log_each_delivery_and_failure_once(client: RabbitBroker, runtime: Runtime) -> None:
    team = new_team()
    reached, missed = await import_children(client, team, [child_row(n, urn="888888", seed=2_700 + n) for n in (1, 2)])
    batch = NotificationsSettled(
        notifications=[
            _settled(reached, Channel.EMAIL, DeliveryStatus.DELIVERED, None),
            _settled(missed, Channel.SMS, DeliveryStatus.PERMANENT_FAILURE, "provider reported permanent-failure"),
        ]
    )
    marker = NotificationsSettled(notifications=[_settled(reached, Channel.SMS, DeliveryStatus.DELIVERED, None)])
    for message in (batch, batch, marker):  # a redelivery in between: it adds nothing
        await publish(client, message)
    for message in (batch, marker):
        await eventually(lambda m=message: processed(runtime, m), what="both batches")

    logged = {
        child: [(e["kind"], e["text"]) for e in await activity(client, child) if e["kind"].startswith("notification")]
        for child in (reached, missed)
    }
    assert logged[reached] == [
        ("notification_delivered", "Clinic initial invitation delivered by email"),
        ("notification_delivered", "Clinic initial invitation delivered by sms"),
    ]
    assert logged[missed] == [("notification_failed", "Clinic initial invitation by sms failed (permanent-failure)")]


async def test_activity_log_of_an_unknown_child_is_not_found(client: RabbitBroker) -> None:
    reply = await ask(client, GetActivityLog(child_id=uuid.uuid4()))
    assert not reply.ok and reply.error is not None and reply.error.code == "not_found"


async def test_clinic_children_filters_and_pages(client: RabbitBroker, runtime: Runtime) -> None:
    team = new_team()
    rows = [child_row(n, urn="888888", seed=3_000 + n) for n in range(9)]
    rows.append([*child_row(9, urn="888888", seed=3_009)[:6], "Lee Line", "Father", "", "0113 496 0123"])
    children = await import_children(client, team, rows)
    invited, given, refused, vaccinated, follow_up, conflicting, scheduled_only, waiting, cancelled, landline = children
    sent_one, cancelled_one = uuid.uuid4(), uuid.uuid4()
    waiting_for_dates = scheduled(waiting, team, at=LATER, invitation_id=uuid.uuid4())
    waiting_for_dates = waiting_for_dates.model_copy(
        update={"invitations": [waiting_for_dates.invitations[0].model_copy(update={"due_at": None})]}
    )
    events: list[Message] = [
        scheduled(invited, team, at=LATER, invitation_id=sent_one),
        sent(invited, team, at=LATER, invitation_id=sent_one, recipient="p3000@example.com"),
        consent(given, team, at=LATER, status="given"),
        consent(refused, team, at=LATER, status="refused"),
        consent(follow_up, team, at=LATER, status="follow_up_requested"),
        consent(conflicting, team, at=LATER, status="conflicting"),
        vaccination(vaccinated, team, at=LATER),
        scheduled(scheduled_only, team, at=LATER, invitation_id=uuid.uuid4()),
        scheduled(landline, team, at=LATER, invitation_id=uuid.uuid4()),
        waiting_for_dates,
        scheduled(cancelled, team, at=LATER, invitation_id=cancelled_one),
        InvitationCancelled(
            invitation_id=cancelled_one, child_id=cancelled, team_ods=team, programmes=[Programme.FLU],
            reason="consent refused", occurred_at=LATER,
        ),
    ]  # fmt: skip
    for event in events:
        await publish(client, event)
    for event in events:
        await eventually(lambda e=event: processed(runtime, e), what=type(event).__name__)

    async def page(filter_: ClinicChildrenFilter, **paging: int) -> dict[str, Any]:
        query = ListClinicChildren(team_ods=team, programme=Programme.FLU, academic_year=2025, filter=filter_, **paging)
        reply = await ask(client, query)
        assert reply.data is not None, reply.error
        return reply.data

    async def listed(filter_: ClinicChildrenFilter, **paging: int) -> tuple[int, list[uuid.UUID]]:
        data = await page(filter_, **paging)
        return data["total"], [uuid.UUID(c["child_id"]) for c in data["children"]]

    assert (await listed(ClinicChildrenFilter.ALL))[0] == 10
    # Invited means a parent was sent an invitation; scheduled, waiting or cancelled is not (issue 19 item 12).
    assert await listed(ClinicChildrenFilter.INVITED) == (1, [invited])
    not_invited = {
        uuid.UUID(c["child_id"]): c["not_invited_because"]
        for c in (await page(ClinicChildrenFilter.NOT_INVITED))["children"]
    }
    due = readable(LATER + timedelta(days=1))
    assert not_invited == {
        given: "no invitation yet",
        refused: "no invitation yet",
        vaccinated: "no invitation yet",
        follow_up: "no invitation yet",
        conflicting: "no invitation yet",
        scheduled_only: f"scheduled for {due}",
        waiting: "waiting for clinic dates",
        cancelled: "cancelled: consent refused",
        landline: "not contactable",
    }
    assert [c["not_invited_because"] for c in (await page(ClinicChildrenFilter.INVITED))["children"]] == [None]
    # Follow-up requested and conflicting answers are for staff to act on, as no answer is (issue 20).
    needing = {invited, scheduled_only, waiting, cancelled, landline, follow_up, conflicting}
    total, listed_needing = await listed(ClinicChildrenFilter.NEEDS_CONSENT)
    assert (total, set(listed_needing)) == (7, needing)
    assert await listed(ClinicChildrenFilter.CONSENT_GIVEN) == (1, [given])
    assert await listed(ClinicChildrenFilter.CONSENT_REFUSED) == (1, [refused])
    assert await listed(ClinicChildrenFilter.VACCINATED) == (1, [vaccinated])
    total, page_two = await listed(ClinicChildrenFilter.ALL, page=2, page_size=6)
    assert total == 10 and len(page_two) == 4


async def test_each_event_delivered_twice_has_one_effect(client: RabbitBroker, runtime: Runtime) -> None:
    team = new_team()
    [child] = await import_children(client, team, [child_row(1, urn="888888", seed=4_000)])
    invitation_id = uuid.uuid4()
    once: list[Message] = [
        scheduled(child, team, at=LATER, invitation_id=invitation_id),
        sent(child, team, at=LATER, invitation_id=invitation_id, recipient="07700 900982"),
        NotificationsSettled(
            notifications=[
                _settled(child, Channel.SMS, DeliveryStatus.DELIVERED, None),
                _settled(child, Channel.EMAIL, DeliveryStatus.TECHNICAL_FAILURE, "provider error"),
            ]
        ),
        NotificationCancelled(
            notification_id=uuid.uuid4(),
            invitation_id=invitation_id,
            child_id=child,
            kind=MessageKind.CLINIC_INITIAL_INVITATION,
            channel=Channel.SMS,
            reason="vaccinated",
        ),
        InvitationCancelled(
            invitation_id=invitation_id, child_id=child, team_ods=team, programmes=[Programme.FLU], reason="refused"
        ),
        ConsentRequested(
            child_id=child, team_ods=team, programmes=[Programme.FLU], academic_year=2025, requested_by="Nurse Joy"
        ),
        consent(child, team, at=LATER, status="refused"),
        vaccination(child, team, at=LATER),
        TeamUpdated(team=TeamSettings(ods_code=team, name="SAIS", email="sais@example.com", phone="0113 000 0000")),
        SchoolSessionChanged(
            session_id=uuid.uuid4(),
            team_ods=team,
            school_urn="100001",
            programmes=[Programme.FLU],
            academic_year=2025,
            dates=[date(2025, 10, 1)],
        ),
        ClinicDatesChanged(
            session_id=uuid.uuid4(),
            team_ods=team,
            programmes=[Programme.FLU],
            academic_year=2025,
            dates=[],
            first_upcoming_date=None,
            last_date=None,
        ),
    ]
    for event in once:
        await publish(client, event)
        await publish(client, event)
    # A second copy of each queue's message, published after the duplicates, marks them all as handled.
    markers = [type(e).model_validate({**e.model_dump(), "message_id": uuid.uuid4()}) for e in once[:8]]
    for marker in markers:
        await publish(client, marker)
    for marker in markers:
        await eventually(lambda m=marker: processed(runtime, m), what=f"the marker {type(marker).__name__}")

    kinds = (
        "SELECT kind, count(*) FROM activity_log WHERE child_id = :c AND kind <> 'joined_clinic_cohort' GROUP BY kind"
    )
    async with runtime.sessions() as session:
        counts = {r.kind: r.count for r in await session.execute(text(kinds), {"c": child})}
    # Each original once, plus its marker (the same event again under a new message id).
    assert counts == {
        "invitation_scheduled": 2,
        "notification_sent": 2,
        "notification_delivered": 2,
        "notification_failed": 2,
        "notification_cancelled": 2,
        "invitation_cancelled": 2,
        "consent_requested": 2,
        "consent_recorded": 2,
        "vaccination_recorded": 2,
    }
    assert await scalar(runtime, "SELECT count(*) FROM vaccinations WHERE child_id = :c", c=child) == 1
    assert await scalar(runtime, "SELECT count(*) FROM invitations WHERE child_id = :c", c=child) == 1
    assert await scalar(runtime, "SELECT sent FROM invitations WHERE child_id = :c", c=child) is True
    for event in once[8:10]:
        await eventually(lambda e=event: processed(runtime, e), what=type(event).__name__)
    assert await scalar(runtime, "SELECT count(*) FROM teams WHERE ods_code = :t", t=team) == 1
    assert await scalar(runtime, "SELECT count(*) FROM school_sessions WHERE team_ods = :t", t=team) == 1


async def test_a_childs_record_shows_its_parents_and_how_each_can_be_reached(client: RabbitBroker) -> None:
    team = new_team()
    mobile, landline = child_row(1, urn="888888", seed=3_100), child_row(2, urn="888888", seed=3_101)
    landline[6:] = ["Lee Line", "Father", "", "0113 496 0123"]
    first, second = await import_children(client, team, [mobile, landline])

    async def parents_of(child: uuid.UUID, nhs_number: str) -> list[dict[str, Any]]:
        reply = await ask(client, FindChildren(team_ods=team, nhs_number=nhs_number))
        assert reply.data is not None, reply.error
        [found] = reply.data["children"]
        assert found["child_id"] == str(child)
        return list(found["parents"])

    [pat] = await parents_of(first, mobile[5])
    uuid.UUID(pat["parent_id"])  # the id `clinics consent record --parent` takes
    assert (pat["name"], pat["email"], pat["phone"]) == ("Pat Parent", "p3100@example.com", "07700900982")
    assert pat["contactable_by"] == ["email", "sms"]
    [lee] = await parents_of(second, landline[5])
    assert (lee["phone"], lee["contactable_by"]) == ("01134960123", [])  # a landline is never texted
    await ask(client, SetChildFlags(child_id=first, restricted=True, changed_by="t"))
    [hidden] = await parents_of(first, mobile[5])
    assert (hidden["email"], hidden["phone"]) == ("(hidden)", "(hidden)") and hidden["parent_id"] == pat["parent_id"]
