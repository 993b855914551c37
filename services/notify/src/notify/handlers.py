"""Notify's subscribers: each hands its message to one use case."""

from __future__ import annotations

from faststream.rabbit import RabbitRouter

from contracts.bulk import ChildrenUpsertedRows, InviteToClinicRows
from contracts.cohort import ChildRemovedFromClinicCohort, ChildrenUpserted, InviteToClinic
from contracts.consent import ConsentRecorded, SendParentMessage
from contracts.envelope import Reply
from contracts.notify import GetInvitationStatus
from contracts.sessions import ClinicDatesChanged, TeamUpdated, VaccinationRecorded
from msgkit.broker import BULK, declare_publishers, make_router, subscription
from msgkit.wiring import Now, UoW, Wired
from notify.ledger import services
from notify.persistence.uow import NotifyUnitOfWork
from notify.wiring import NotifyWiring

Uow = UoW[NotifyUnitOfWork]
Parts = Wired[NotifyWiring]


async def on_team_updated(event: TeamUpdated, uow: Uow, now: Now) -> None:
    await services.record_team(event, uow, now)


async def on_clinic_dates_changed(event: ClinicDatesChanged, uow: Uow, now: Now) -> None:
    await services.record_clinic_dates(event, uow, now)


async def on_children_upserted(event: ChildrenUpsertedRows, uow: Uow, now: Now) -> None:
    await services.record_children(event, uow, now)


async def on_child_removed_from_clinic_cohort(event: ChildRemovedFromClinicCohort, uow: Uow, now: Now) -> None:
    await services.record_cohort_leaver(event, uow, now)


async def on_vaccination_recorded(event: VaccinationRecorded, uow: Uow, now: Now) -> None:
    await services.record_vaccination(event, uow, now)


async def on_consent_recorded(event: ConsentRecorded, uow: Uow, now: Now) -> None:
    await services.record_consent(event, uow, now)


async def on_invite_to_clinic(command: InviteToClinicRows, uow: Uow, now: Now) -> None:
    await services.invite_to_clinic(command, uow, now)


async def on_send_parent_message(command: SendParentMessage, uow: Uow, now: Now, wiring: Parts) -> None:
    await services.send_parent_message(command, uow, now, wiring.catalogue)


async def on_get_invitation_status(query: GetInvitationStatus, uow: Uow) -> Reply:
    return await services.invitation_status(query, uow)


def build_router() -> RabbitRouter:
    """A fresh router per app, so several app instances can run in one process (tests, benchmarks)."""
    router = make_router()
    router.subscriber(**subscription("notify", TeamUpdated))(on_team_updated)
    router.subscriber(**subscription("notify", ClinicDatesChanged))(on_clinic_dates_changed)
    router.subscriber(**subscription("notify", ChildrenUpserted, read_as=ChildrenUpsertedRows), channel=BULK)(
        on_children_upserted
    )
    router.subscriber(**subscription("notify", ChildRemovedFromClinicCohort))(on_child_removed_from_clinic_cohort)
    router.subscriber(**subscription("notify", VaccinationRecorded))(on_vaccination_recorded)
    router.subscriber(**subscription("notify", ConsentRecorded))(on_consent_recorded)
    router.subscriber(**subscription("notify", InviteToClinic, read_as=InviteToClinicRows), channel=BULK)(
        on_invite_to_clinic
    )
    router.subscriber(**subscription("notify", SendParentMessage))(on_send_parent_message)
    router.subscriber(**subscription("notify", GetInvitationStatus))(on_get_invitation_status)
    declare_publishers(router, "notify")
    return router
