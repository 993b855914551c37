"""Notify's subscribers: each hands its message to one use case."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from faststream import Depends
from faststream.rabbit import RabbitRouter

from contracts import topology
from contracts.bulk import ChildrenUpsertedRows, InviteToClinicRows
from contracts.cohort import ChildRemovedFromClinicCohort, ChildrenUpserted, InviteToClinic
from contracts.consent import ConsentRecorded, SendParentMessage
from contracts.envelope import Reply
from contracts.notify import GetInvitationStatus
from contracts.sessions import ClinicDatesChanged, TeamUpdated, VaccinationRecorded
from msgkit.broker import BULK, exchange, make_router, subscription
from msgkit.clock import Clock
from msgkit.runtime import Runtime, runtime_param
from notify import services
from notify.dispatcher import Dispatcher
from notify.templates import TemplateCatalogue
from notify.uow import NotifyUnitOfWork


async def get_uow(runtime: Runtime = runtime_param()) -> NotifyUnitOfWork:
    factory: NotifyUnitOfWork = runtime.extras["uow"]()
    return factory


async def get_now(runtime: Runtime = runtime_param()) -> datetime:
    clock: Clock = runtime.extras["clock"]
    return clock.now()


async def get_catalogue(runtime: Runtime = runtime_param()) -> TemplateCatalogue:
    catalogue: TemplateCatalogue = runtime.extras["catalogue"]
    return catalogue


async def get_dispatcher(runtime: Runtime = runtime_param()) -> Dispatcher:
    dispatcher: Dispatcher = runtime.extras["dispatcher"]
    return dispatcher


UoW = Annotated[NotifyUnitOfWork, Depends(get_uow)]
Sender = Annotated[Dispatcher, Depends(get_dispatcher, cast=False)]
Now = Annotated[datetime, Depends(get_now)]
Templates = Annotated[TemplateCatalogue, Depends(get_catalogue)]


async def on_team_updated(event: TeamUpdated, uow: UoW, now: Now) -> None:
    await services.record_team(event, uow, now)


async def on_clinic_dates_changed(event: ClinicDatesChanged, uow: UoW, now: Now) -> None:
    await services.record_clinic_dates(event, uow, now)


async def on_children_upserted(event: ChildrenUpsertedRows, uow: UoW, now: Now) -> None:
    await services.record_children(event, uow, now)


async def on_child_removed_from_clinic_cohort(event: ChildRemovedFromClinicCohort, uow: UoW, now: Now) -> None:
    await services.record_cohort_leaver(event, uow, now)


async def on_vaccination_recorded(event: VaccinationRecorded, uow: UoW, now: Now) -> None:
    await services.record_vaccination(event, uow, now)


async def on_consent_recorded(event: ConsentRecorded, uow: UoW, now: Now) -> None:
    await services.record_consent(event, uow, now)


async def on_invite_to_clinic(command: InviteToClinicRows, uow: UoW, now: Now, dispatcher: Sender) -> None:
    await services.invite_to_clinic(command, uow, now, dispatcher)


async def on_send_parent_message(command: SendParentMessage, uow: UoW, now: Now, catalogue: Templates) -> None:
    await services.send_parent_message(command, uow, now, catalogue)


async def on_get_invitation_status(query: GetInvitationStatus, uow: UoW) -> Reply:
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
    # Declared so the AsyncAPI document lists what notify publishes; the outbox relay sends them.
    for message in topology.published_by("notify"):
        route = topology.route_for(message)
        router.publisher(
            exchange=exchange(route.exchange, route.exchange_type),
            routing_key=route.routing_key,
            persist=True,
            schema=message,
            title=f"{route.routing_key}:publish",
            description=message.__doc__,
        )
    return router
