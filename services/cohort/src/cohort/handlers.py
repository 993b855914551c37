"""RabbitMQ subscribers of the cohort service: each calls one use case."""

from __future__ import annotations

from typing import Annotated, Any

from faststream import Depends

from cohort import event_services, import_services, query_services, services
from cohort.uow import CohortUnitOfWork
from contracts import cohort, consent, notify, sessions, topology
from contracts.bulk import InvitationsScheduledRows
from contracts.envelope import Message, Reply
from msgkit.batching import Batcher
from msgkit.broker import BULK, GROUPED, GROUPED_BULK, exchange, make_router, subscription
from msgkit.clock import Clock
from msgkit.runtime import Runtime, runtime_param

router = make_router()


async def get_uow(runtime: Runtime = runtime_param()) -> CohortUnitOfWork:
    return CohortUnitOfWork(runtime.sessions, runtime.tables, consumer=runtime.service, on_commit=runtime.wake_relay)


async def get_clock(runtime: Runtime = runtime_param()) -> Clock:
    clock: Clock = runtime.extras["clock"]
    return clock


async def get_activity(runtime: Runtime = runtime_param()) -> Batcher[Message, None]:
    batcher: Batcher[Message, None] = runtime.extras["activity"]
    return batcher


UoW = Annotated[CohortUnitOfWork, Depends(get_uow)]
# Events that only add to activity logs go to one batcher: many per transaction (see event_services).
ActivityLog = Annotated[Any, Depends(get_activity, cast=False)]
# Typed Any for FastDepends, which cannot validate against a Protocol; the use cases take a Clock.
Clk = Annotated[Any, Depends(get_clock, cast=False)]


# --- events and commands of other services ----------------------------------------------------


@router.subscriber(**subscription("cohort", sessions.TeamUpdated))
async def on_team_updated(event: sessions.TeamUpdated, uow: UoW) -> None:
    await event_services.keep_team(event, uow)


@router.subscriber(**subscription("cohort", sessions.SchoolSessionChanged))
async def on_school_session_changed(event: sessions.SchoolSessionChanged, uow: UoW) -> None:
    await event_services.keep_school_session(event, uow)


@router.subscriber(**subscription("cohort", sessions.SchoolSessionClosed))
async def on_school_session_closed(event: sessions.SchoolSessionClosed, uow: UoW) -> None:
    await event_services.invite_closed_session(event, uow)


@router.subscriber(**subscription("cohort", sessions.ClinicDatesChanged))
async def on_clinic_dates_changed(event: sessions.ClinicDatesChanged) -> None:
    """Clinic dates are notify's business (invitation timing); cohort needs nothing from them."""


@router.subscriber(**subscription("cohort", sessions.VaccinationRecorded))
async def on_vaccination_recorded(event: sessions.VaccinationRecorded, uow: UoW) -> None:
    await event_services.keep_vaccination(event, uow)


@router.subscriber(**subscription("cohort", consent.ConsentRecorded))
async def on_consent_recorded(event: consent.ConsentRecorded, uow: UoW) -> None:
    await event_services.keep_consent(event, uow)


@router.subscriber(**subscription("cohort", consent.ConsentRequested), channel=GROUPED)
async def on_consent_requested(event: consent.ConsentRequested, log: ActivityLog) -> None:
    await log.submit(event)


@router.subscriber(
    **subscription("cohort", notify.InvitationsScheduled, read_as=InvitationsScheduledRows), channel=BULK
)
async def on_invitations_scheduled(event: InvitationsScheduledRows, uow: UoW) -> None:
    await event_services.keep_invitations_scheduled(event, uow)


@router.subscriber(**subscription("cohort", notify.InvitationCancelled))
async def on_invitation_cancelled(event: notify.InvitationCancelled, uow: UoW) -> None:
    await event_services.keep_invitation_cancelled(event, uow)


@router.subscriber(**subscription("cohort", notify.NotificationsSent), channel=GROUPED_BULK)
async def on_notifications_sent(event: notify.NotificationsSent, log: ActivityLog) -> None:
    await log.submit(event)


@router.subscriber(**subscription("cohort", notify.NotificationsSettled), channel=GROUPED_BULK)
async def on_notifications_settled(event: notify.NotificationsSettled, log: ActivityLog) -> None:
    await log.submit(event)


@router.subscriber(**subscription("cohort", notify.NotificationDelivered), channel=GROUPED)
async def on_notification_delivered(event: notify.NotificationDelivered, log: ActivityLog) -> None:
    """From replicas older than NotificationsSettled (a rolling upgrade); nothing new publishes it."""
    await log.submit(event)


@router.subscriber(**subscription("cohort", notify.NotificationFailed), channel=GROUPED)
async def on_notification_failed(event: notify.NotificationFailed, log: ActivityLog) -> None:
    """From replicas older than NotificationsSettled (a rolling upgrade); nothing new publishes it."""
    await log.submit(event)


@router.subscriber(**subscription("cohort", notify.NotificationCancelled), channel=GROUPED)
async def on_notification_cancelled(event: notify.NotificationCancelled, log: ActivityLog) -> None:
    await log.submit(event)


# --- requests ---------------------------------------------------------------------------------


@router.subscriber(**subscription("cohort", cohort.ImportCohortChunk))
async def on_import_cohort_chunk(command: cohort.ImportCohortChunk, uow: UoW, clock: Clk) -> Reply:
    return await import_services.stage_chunk(command, uow, clock)


@router.subscriber(**subscription("cohort", cohort.CommitCohortImport))
async def on_commit_cohort_import(command: cohort.CommitCohortImport, uow: UoW, clock: Clk) -> Reply:
    return await import_services.commit_import(command, uow, clock)


@router.subscriber(**subscription("cohort", cohort.InviteChildToClinic))
async def on_invite_child_to_clinic(command: cohort.InviteChildToClinic, uow: UoW, clock: Clk) -> Reply:
    return await services.invite_child(command, uow, clock)


@router.subscriber(**subscription("cohort", cohort.AddWalkIn))
async def on_add_walk_in(command: cohort.AddWalkIn, uow: UoW, clock: Clk) -> Reply:
    return await services.add_walk_in(command, uow, clock)


@router.subscriber(**subscription("cohort", cohort.ChangeChildSchool))
async def on_change_child_school(command: cohort.ChangeChildSchool, uow: UoW, clock: Clk) -> Reply:
    return await services.change_school(command, uow, clock)


@router.subscriber(**subscription("cohort", cohort.SetChildFlags))
async def on_set_child_flags(command: cohort.SetChildFlags, uow: UoW) -> Reply:
    return await services.set_flags(command, uow)


@router.subscriber(**subscription("cohort", cohort.PreviewClinicInvitations))
async def on_preview_clinic_invitations(query: cohort.PreviewClinicInvitations, uow: UoW) -> Reply:
    return await query_services.preview_invitations(query, uow)


@router.subscriber(**subscription("cohort", cohort.GetActivityLog))
async def on_get_activity_log(query: cohort.GetActivityLog, uow: UoW) -> Reply:
    return await query_services.activity_log(query, uow)


@router.subscriber(**subscription("cohort", cohort.ListClinicChildren))
async def on_list_clinic_children(query: cohort.ListClinicChildren, uow: UoW) -> Reply:
    return await query_services.clinic_children(query, uow)


@router.subscriber(**subscription("cohort", cohort.FindChildren))
async def on_find_children(query: cohort.FindChildren, uow: UoW) -> Reply:
    return await query_services.find_children(query, uow)


# Declared so the AsyncAPI document lists what this service publishes; the outbox relay sends them.
for _message in topology.published_by("cohort"):
    _route = topology.route_for(_message)
    router.publisher(
        exchange=exchange(_route.exchange, _route.exchange_type),
        routing_key=_route.routing_key,
        persist=True,
        schema=_message,
        title=f"{_route.routing_key}:publish",
        description=_message.__doc__,
    )
