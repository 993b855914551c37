"""RabbitMQ subscribers of the consent service: each hands its message to one use case."""

from __future__ import annotations

from typing import Annotated

from faststream import Depends

from consent import services
from consent.uow import ConsentUnitOfWork, unit_of_work
from contracts import topology
from contracts.bulk import ChildrenJoinedClinicCohortRows, ChildrenUpsertedRows
from contracts.cohort import ChildrenJoinedClinicCohort, ChildrenUpserted
from contracts.consent import GetConsentStatus, RecordConsent, SendConsentRequest
from contracts.envelope import Reply
from contracts.sessions import ClinicDatesChanged, TeamUpdated, VaccinationRecorded
from msgkit.broker import BULK, exchange, make_router, subscription
from msgkit.clock import Clock
from msgkit.runtime import Runtime, runtime_param

router = make_router()


async def get_uow(runtime: Runtime = runtime_param()) -> ConsentUnitOfWork:
    return unit_of_work(runtime)


async def get_clock(runtime: Runtime = runtime_param()) -> Clock:
    clock: Clock = runtime.extras["clock"]
    return clock


UoW = Annotated[ConsentUnitOfWork, Depends(get_uow)]
Now = Annotated[Clock, Depends(get_clock, cast=False)]


@router.subscriber(**subscription("consent", TeamUpdated))
async def on_team_updated(event: TeamUpdated, uow: UoW) -> None:
    await services.update_team(event, uow)


@router.subscriber(**subscription("consent", ChildrenUpserted, read_as=ChildrenUpsertedRows), channel=BULK)
async def on_children_upserted(event: ChildrenUpsertedRows, uow: UoW) -> None:
    await services.upsert_children(event, uow)


@router.subscriber(
    **subscription("consent", ChildrenJoinedClinicCohort, read_as=ChildrenJoinedClinicCohortRows), channel=BULK
)
async def on_children_joined_clinic_cohort(event: ChildrenJoinedClinicCohortRows, uow: UoW) -> None:
    await services.record_clinic_joins(event, uow)


@router.subscriber(**subscription("consent", ClinicDatesChanged))
async def on_clinic_dates_changed(event: ClinicDatesChanged, uow: UoW) -> None:
    await services.update_clinic_dates(event, uow)


@router.subscriber(**subscription("consent", VaccinationRecorded))
async def on_vaccination_recorded(event: VaccinationRecorded, uow: UoW) -> None:
    await services.record_implied_consent(event, uow)


@router.subscriber(**subscription("consent", SendConsentRequest))
async def on_send_consent_request(command: SendConsentRequest, uow: UoW, clock: Now) -> Reply:
    return await services.send_consent_request(command, uow, clock)


@router.subscriber(**subscription("consent", RecordConsent))
async def on_record_consent(command: RecordConsent, uow: UoW, clock: Now) -> Reply:
    return await services.record_consent(command, uow, clock)


@router.subscriber(**subscription("consent", GetConsentStatus))
async def on_get_consent_status(query: GetConsentStatus, uow: UoW) -> Reply:
    return await services.get_consent_status(query, uow)


# Declared so the AsyncAPI document lists what this service publishes; the outbox relay sends them.
for _message in topology.published_by("consent"):
    _route = topology.route_for(_message)
    router.publisher(
        exchange=exchange(_route.exchange, _route.exchange_type),
        routing_key=_route.routing_key,
        persist=True,
        schema=_message,
        title=f"{_route.routing_key}:publish",
        description=_message.__doc__,
    )
