"""RabbitMQ subscribers of the cohort service: each calls one use case."""

from __future__ import annotations

from faststream.rabbit import RabbitRouter

from cohort import consent_children, event_services, import_reviews, import_services, query_services, services
from cohort.uow import CohortUnitOfWork
from cohort.wiring import CohortWiring
from contracts import cohort, consent, notify, sessions
from contracts.bulk import InvitationsScheduledRows
from contracts.envelope import Reply
from msgkit.broker import BULK, GROUPED, GROUPED_BULK, declare_publishers, make_router, subscription
from msgkit.wiring import Now, UoW, Wired

Uow = UoW[CohortUnitOfWork]
# Events that only add to activity logs go to one batcher: many per transaction (see event_services).
Activity = Wired[CohortWiring]


# --- events and commands of other services ----------------------------------------------------


async def on_team_updated(event: sessions.TeamUpdated, uow: Uow) -> None:
    await event_services.keep_team(event, uow)


async def on_school_session_changed(event: sessions.SchoolSessionChanged, uow: Uow) -> None:
    await event_services.keep_school_session(event, uow)


async def on_school_session_closed(event: sessions.SchoolSessionClosed, uow: Uow) -> None:
    await event_services.invite_closed_session(event, uow)


async def on_clinic_dates_changed(event: sessions.ClinicDatesChanged, uow: Uow) -> None:
    """Cohort keeps the team's clinic days (a walk-in is added only on one); their timing is notify's business."""
    await event_services.keep_clinic_dates(event, uow)


async def on_vaccination_recorded(event: sessions.VaccinationRecorded, uow: Uow) -> None:
    await event_services.keep_vaccination(event, uow)


async def on_consent_recorded(event: consent.ConsentRecorded, uow: Uow) -> None:
    await event_services.keep_consent(event, uow)


async def on_add_child_from_consent_response(command: consent.AddChildFromConsentResponse, uow: Uow, now: Now) -> None:
    await consent_children.add_child(command, uow, now)


async def on_consent_requested(event: consent.ConsentRequested, wiring: Activity) -> None:
    await wiring.activity.submit(event)


async def on_invitations_scheduled(event: InvitationsScheduledRows, uow: Uow) -> None:
    await event_services.keep_invitations_scheduled(event, uow)


async def on_invitation_cancelled(event: notify.InvitationCancelled, uow: Uow) -> None:
    await event_services.keep_invitation_cancelled(event, uow)


async def on_notifications_sent(event: notify.NotificationsSent, wiring: Activity) -> None:
    await wiring.activity.submit(event)


async def on_notifications_settled(event: notify.NotificationsSettled, wiring: Activity) -> None:
    await wiring.activity.submit(event)


async def on_notification_cancelled(event: notify.NotificationCancelled, wiring: Activity) -> None:
    await wiring.activity.submit(event)


# --- requests ---------------------------------------------------------------------------------


async def on_import_cohort_chunk(command: cohort.ImportCohortChunk, uow: Uow, now: Now) -> Reply:
    return await import_services.stage_chunk(command, uow, now)


async def on_commit_cohort_import(command: cohort.CommitCohortImport, uow: Uow, now: Now) -> Reply:
    return await import_services.commit_import(command, uow, now)


async def on_list_import_reviews(query: cohort.ListImportReviews, uow: Uow) -> Reply:
    return await import_reviews.list_reviews(query, uow)


async def on_decide_import_review(command: cohort.DecideImportReview, uow: Uow, now: Now) -> Reply:
    return await import_reviews.decide_review(command, uow, now)


async def on_invite_child_to_clinic(command: cohort.InviteChildToClinic, uow: Uow, now: Now) -> Reply:
    return await services.invite_child(command, uow, now)


async def on_add_walk_in(command: cohort.AddWalkIn, uow: Uow, now: Now) -> Reply:
    return await services.add_walk_in(command, uow, now)


async def on_change_child_school(command: cohort.ChangeChildSchool, uow: Uow, now: Now) -> Reply:
    return await services.change_school(command, uow, now)


async def on_set_child_flags(command: cohort.SetChildFlags, uow: Uow) -> Reply:
    return await services.set_flags(command, uow)


async def on_preview_clinic_invitations(query: cohort.PreviewClinicInvitations, uow: Uow) -> Reply:
    return await query_services.preview_invitations(query, uow)


async def on_get_activity_log(query: cohort.GetActivityLog, uow: Uow) -> Reply:
    return await query_services.activity_log(query, uow)


async def on_list_clinic_children(query: cohort.ListClinicChildren, uow: Uow) -> Reply:
    return await query_services.clinic_children(query, uow)


async def on_find_children(query: cohort.FindChildren, uow: Uow) -> Reply:
    return await query_services.find_children(query, uow)


def build_router() -> RabbitRouter:
    """A fresh router per app, so several app instances can run in one process (tests, benchmarks)."""
    router = make_router()
    sub = router.subscriber
    sub(**subscription("cohort", sessions.TeamUpdated))(on_team_updated)
    sub(**subscription("cohort", sessions.SchoolSessionChanged))(on_school_session_changed)
    sub(**subscription("cohort", sessions.SchoolSessionClosed))(on_school_session_closed)
    sub(**subscription("cohort", sessions.ClinicDatesChanged))(on_clinic_dates_changed)
    sub(**subscription("cohort", sessions.VaccinationRecorded))(on_vaccination_recorded)
    sub(**subscription("cohort", consent.ConsentRecorded))(on_consent_recorded)
    sub(**subscription("cohort", consent.ConsentRequested), channel=GROUPED)(on_consent_requested)
    sub(**subscription("cohort", consent.AddChildFromConsentResponse))(on_add_child_from_consent_response)
    scheduled = subscription("cohort", notify.InvitationsScheduled, read_as=InvitationsScheduledRows)
    sub(**scheduled, channel=BULK)(on_invitations_scheduled)
    sub(**subscription("cohort", notify.InvitationCancelled))(on_invitation_cancelled)
    sub(**subscription("cohort", notify.NotificationsSent), channel=GROUPED_BULK)(on_notifications_sent)
    sub(**subscription("cohort", notify.NotificationsSettled), channel=GROUPED_BULK)(on_notifications_settled)
    sub(**subscription("cohort", notify.NotificationCancelled), channel=GROUPED)(on_notification_cancelled)
    sub(**subscription("cohort", cohort.ImportCohortChunk))(on_import_cohort_chunk)
    sub(**subscription("cohort", cohort.CommitCohortImport))(on_commit_cohort_import)
    sub(**subscription("cohort", cohort.ListImportReviews))(on_list_import_reviews)
    sub(**subscription("cohort", cohort.DecideImportReview))(on_decide_import_review)
    sub(**subscription("cohort", cohort.InviteChildToClinic))(on_invite_child_to_clinic)
    sub(**subscription("cohort", cohort.AddWalkIn))(on_add_walk_in)
    sub(**subscription("cohort", cohort.ChangeChildSchool))(on_change_child_school)
    sub(**subscription("cohort", cohort.SetChildFlags))(on_set_child_flags)
    sub(**subscription("cohort", cohort.PreviewClinicInvitations))(on_preview_clinic_invitations)
    sub(**subscription("cohort", cohort.GetActivityLog))(on_get_activity_log)
    sub(**subscription("cohort", cohort.ListClinicChildren))(on_list_clinic_children)
    sub(**subscription("cohort", cohort.FindChildren))(on_find_children)
    declare_publishers(router, "cohort")
    return router
