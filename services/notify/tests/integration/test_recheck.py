"""Messages re-checked as they are claimed: a waiting message whose purpose has gone is cancelled, not sent."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from contracts.cohort import ChildRemovedFromClinicCohort, ChildrenUpserted, ChildSnapshot
from contracts.common import MessageKind, Programme
from contracts.consent import ConsentRecorded, ConsentResponse, ConsentRoute, ConsentStatus
from contracts.envelope import Message
from contracts.notify import GetInvitationStatus
from notify.delivery import rechecks
from notify.domain.notifications import Notification
from notify.persistence.tables import messaging
from notify.persistence.uow import NotifyUnitOfWork
from notify_stub import Fault, FaultKind, NotifyStub
from testkit import eventually

from ..notify_support import Harness, invite, parent, request
from .test_dispatch import vaccinated
from .test_handlers import parent_message

pytestmark = pytest.mark.integration

REQUEST = MessageKind.CONSENT_CLINIC_REQUEST


def consent(kid: ChildSnapshot, status: ConsentStatus, programme: Programme = Programme.FLU) -> ConsentRecorded:
    response = ConsentResponse.REFUSED if status is ConsentStatus.REFUSED else ConsentResponse.GIVEN
    return ConsentRecorded(
        consent_id=uuid.uuid4(), child_id=kid.child_id, team_ods=kid.team_ods, programme=programme,
        academic_year=2025, response=response, route=ConsentRoute.PHONE, recorded_by="nurse",
        recorded_at=datetime(2026, 1, 12, 10, 0, tzinfo=UTC), status=status,
    )  # fmt: skip


def left(kid: ChildSnapshot) -> Message:
    return ChildRemovedFromClinicCohort(child_id=kid.child_id, team_ods=kid.team_ods, academic_year=2025, reason="x")


def flagged(kid: ChildSnapshot, flag: str) -> Message:
    return ChildrenUpserted(children=[kid.model_copy(update={flag: True})], occurred_at=datetime.now(UTC))


async def waiting_for_a_retry(harness: Harness, kid: ChildSnapshot) -> list[Any]:
    """Every message of `kid` attempted once and refused by the provider: pending, waiting for their retry."""

    async def probe() -> list[Any]:
        rows = await harness.notifications(kid.child_id)
        done = rows and all(n.attempts == 1 and n.status == "pending" for n in rows)
        return rows if done else []

    return await eventually(probe, timeout=10, what="every message waiting for its retry")


async def a_retry_is_due(harness: Harness, message: Message) -> None:
    await harness.publish(message)
    await harness.wait_processed(message)
    harness.clock.advance(timedelta(minutes=5))


CAUSES: dict[str, tuple[Callable[[ChildSnapshot], Message], str]] = {
    "consent given": (lambda k: consent(k, ConsentStatus.GIVEN), "consent already given"),
    "consent refused": (lambda k: consent(k, ConsentStatus.REFUSED), "consent refused"),
    "parents disagree": (lambda k: consent(k, ConsentStatus.CONFLICTING), "consent conflicting"),
    "vaccinated": (lambda k: vaccinated(k.child_id, k.team_ods), "vaccinated"),
    "left the cohort": (left, "left the clinic cohort"),
    "archived": (lambda k: flagged(k, "archived"), "archived"),
}


@pytest.mark.parametrize("cause", CAUSES)
@pytest.mark.usefixtures("app")
async def test_a_consent_request_waiting_for_a_retry_is_cancelled_once_its_purpose_is_gone(
    harness: Harness, stub: NotifyStub, cause: str
) -> None:
    kid = await harness.setup_child()  # two parents: two emails and a text
    stub.faults.push(*[Fault(FaultKind.ERROR_429, retry_after=30)] * 3)
    await harness.publish(parent_message(kid.child_id, kid.team_ods))
    waiting = await waiting_for_a_retry(harness, kid)
    make, reason = CAUSES[cause]
    await a_retry_is_due(harness, make(kid))

    cancelled = await harness.wait_notifications(kid.child_id, "cancelled", 3)
    assert {(n.cancel_reason, n.attempts) for n in cancelled} == {(reason, 1)}  # never tried again
    assert stub.sent == [] and stub.stats.totals.get("fault_429") == 3
    events = await harness.observer.wait_for("NotificationCancelled", kid.child_id, count=3)
    assert sorted((e["notification_id"], e["kind"], e["channel"], e["reason"]) for e in events) == sorted(
        (str(n.id), str(REQUEST), n.channel, reason) for n in waiting
    )
    assert harness.observer.of("NotificationsSent", kid.child_id) == []
    reply = await harness.ask(GetInvitationStatus(child_id=kid.child_id))
    assert reply.data is not None
    assert {(m["status"], m["cancel_reason"]) for m in reply.data["notifications"]} == {("cancelled", reason)}


@pytest.mark.usefixtures("app")
async def test_an_unanswered_request_is_sent_on_its_retry(harness: Harness, stub: NotifyStub) -> None:
    kid = await harness.setup_child(parents=[parent(phone=False)])
    stub.faults.push(Fault(FaultKind.ERROR_429, retry_after=30))
    await harness.publish(parent_message(kid.child_id, kid.team_ods))
    await waiting_for_a_retry(harness, kid)
    await a_retry_is_due(harness, consent(kid, ConsentStatus.GIVEN, Programme.HPV))  # another programme
    [sent] = await harness.wait_notifications(kid.child_id, "sent", 1)
    assert sent.attempts == 2 and [s.reference for s in stub.sent] == [sent.reference]


@pytest.mark.usefixtures("app")
async def test_an_ambiguous_attempt_is_looked_up_before_it_is_cancelled(harness: Harness, stub: NotifyStub) -> None:
    kid = await harness.setup_child(parents=[parent(phone=False), parent(phone=False)])
    # The first attempt never reached the provider; the second did, but its answer was lost.
    stub.faults.push(Fault(FaultKind.ERROR_500), Fault(FaultKind.ACCEPT_THEN_500))
    await harness.publish(parent_message(kid.child_id, kid.team_ods))
    await waiting_for_a_retry(harness, kid)
    await a_retry_is_due(harness, consent(kid, ConsentStatus.GIVEN))

    [cancelled] = await harness.wait_notifications(kid.child_id, "cancelled", 1)
    [sent] = await harness.wait_notifications(kid.child_id, "sent", 1)  # the provider had it: never cancelled
    assert [s.reference for s in stub.sent] == [sent.reference]
    assert stub.stats.totals.get("lookup") == 2 and cancelled.attempts == 2  # the lookup was its second attempt
    [event] = await harness.observer.wait_for("NotificationCancelled", kid.child_id)
    assert (event["notification_id"], event["reason"]) == (str(cancelled.id), "consent already given")


async def expanded_but_waiting_for_the_window(start_app: Any, harness: Harness, programmes: list[Programme]) -> Any:
    """An invitation expanded at 20:00, when the window had closed: its messages wait for 09:00."""
    await start_app(dispatcher_enabled=False)
    kid = await harness.setup_child(dates=[date(2026, 1, 20)], parents=[parent()])
    await harness.publish(invite(request(kid, programmes=programmes), at=harness.clock.now()))
    await harness.wait_invitation(kid.child_id, "scheduled")
    harness.clock.set(datetime(2026, 1, 12, 20, 0, tzinfo=UTC))
    await start_app()
    await harness.wait_invitation(kid.child_id, "sending")
    rows = await harness.notifications(kid.child_id)
    assert {(n.status, n.next_attempt_at) for n in rows} == {("pending", datetime(2026, 1, 13, 9, 0, tzinfo=UTC))}
    return kid


async def test_an_expanded_invitation_waiting_for_its_window_is_cancelled_when_vaccinated(
    start_app: Any, harness: Harness, stub: NotifyStub
) -> None:
    kid = await expanded_but_waiting_for_the_window(start_app, harness, [Programme.FLU])
    message = vaccinated(kid.child_id, kid.team_ods)
    await harness.publish(message)
    await harness.wait_processed(message)
    harness.clock.set(datetime(2026, 1, 13, 9, 0, tzinfo=UTC))

    await harness.wait_notifications(kid.child_id, "cancelled", 2)
    invitation = await harness.wait_invitation(kid.child_id, "cancelled")
    assert invitation.cancel_reason == "vaccinated"
    [event] = await harness.observer.wait_for("InvitationCancelled", kid.child_id)
    assert (event["invitation_id"], event["reason"]) == (str(invitation.id), "vaccinated")
    assert len(await harness.observer.wait_for("NotificationCancelled", kid.child_id, count=2)) == 2
    assert await harness.ledger(kid.child_id) == []  # cancelled unsent: its programme may be invited again
    assert stub.sent == []


async def test_an_expanded_invitation_drops_a_programme_settled_while_it_waited(
    start_app: Any, harness: Harness, stub: NotifyStub
) -> None:
    kid = await expanded_but_waiting_for_the_window(start_app, harness, [Programme.FLU, Programme.HPV])
    message = vaccinated(kid.child_id, kid.team_ods, Programme.HPV)
    await harness.publish(message)
    await harness.wait_processed(message)
    harness.clock.set(datetime(2026, 1, 13, 9, 0, tzinfo=UTC))

    sent = await harness.wait_notifications(kid.child_id, "sent", 2)
    assert {s.personalisation["programmes"] for s in stub.sent} == {"flu"}
    assert {(tuple(n.programmes), n.personalisation["programmes"]) for n in sent} == {(("flu",), "flu")}
    assert (await harness.wait_invitation(kid.child_id, "sent")).programmes == ["flu", "hpv"]


@pytest.mark.usefixtures("app")
async def test_a_waiting_confirmation_still_reaches_an_archived_child_but_not_a_restricted_one(
    harness: Harness, stub: NotifyStub
) -> None:
    archived, restricted = await harness.setup_children(2, parents=[parent(phone=False)])
    stub.faults.push(*[Fault(FaultKind.ERROR_429, retry_after=30)] * 2)
    for kid in (archived, restricted):
        await harness.publish(parent_message(kid.child_id, kid.team_ods, MessageKind.CONSENT_CONFIRMATION_GIVEN))
        await waiting_for_a_retry(harness, kid)
    later = datetime.now(UTC)
    changed = ChildrenUpserted(
        children=[archived.model_copy(update={"archived": True}), restricted.model_copy(update={"restricted": True})],
        occurred_at=later,
    )
    await a_retry_is_due(harness, changed)
    await harness.wait_notifications(archived.child_id, "sent", 1)
    [cancelled] = await harness.wait_notifications(restricted.child_id, "cancelled", 1)
    assert cancelled.cancel_reason == "restricted" and len(stub.sent) == 1


def note(kid: ChildSnapshot, kind: str, now: datetime) -> Notification:
    return Notification(
        id=str(uuid.uuid4()), reference="r", child_id=str(kid.child_id), team_ods=kid.team_ods, kind=kind,
        channel="email", to="p@example.com", template_id="t", personalisation={"programmes": "flu"},
        next_attempt_at=now, programmes=("flu",), academic_year=2025,
    )  # fmt: skip


@pytest.mark.usefixtures("app")
async def test_copies_are_read_once_per_batch_and_only_what_its_kinds_need(
    engine: AsyncEngine, harness: Harness
) -> None:
    kids = await harness.setup_children(3)
    now = harness.clock.now()
    kinds = [REQUEST, MessageKind.CLINIC_INITIAL_INVITATION, MessageKind.CONSENT_CONFIRMATION_GIVEN]
    request_note, invitation_note, confirmation_note = (
        note(k, str(kind), now) for k, kind in zip(kids, kinds, strict=True)
    )
    copies = {"children", "programme_outcomes", "cohort_leavers"}
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.extend(t for t in copies if f"FROM notify.{t}" in statement or f"FROM {t}" in statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    uow = NotifyUnitOfWork(async_sessionmaker(engine, expire_on_commit=False), messaging, consumer="test")
    try:
        for batch, expected in [
            ([], []),
            ([confirmation_note], ["children"]),
            ([request_note, invitation_note, confirmation_note] * 50, sorted(copies)),
        ]:
            statements.clear()
            async with uow:
                kept = await rechecks.recheck(uow, batch, now)
            assert (len(kept), sorted(statements)) == (len(batch), expected)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
