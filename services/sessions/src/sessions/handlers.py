"""Request handlers of the sessions service: each calls exactly one use case and returns its Reply."""

from __future__ import annotations

from typing import Annotated, cast

from faststream import Depends

from contracts import sessions as c
from contracts import topology
from contracts.envelope import Reply
from msgkit.broker import exchange, make_router, subscription
from msgkit.clock import Clock
from msgkit.runtime import Runtime, runtime_param
from sessions import services
from sessions.uow import SessionsUnitOfWork

router = make_router()


async def get_uow(runtime: Runtime = runtime_param()) -> SessionsUnitOfWork:
    return SessionsUnitOfWork(runtime.sessions, runtime.tables, consumer=runtime.service, on_commit=runtime.wake_relay)


async def get_clock(runtime: Runtime = runtime_param()) -> Clock:
    return cast(Clock, runtime.extras["clock"])


UoW = Annotated[SessionsUnitOfWork, Depends(get_uow)]
Now = Annotated[Clock, Depends(get_clock, cast=False)]


@router.subscriber(**subscription("sessions", c.UpsertTeam))
async def on_upsert_team(command: c.UpsertTeam, uow: UoW) -> Reply:
    return await services.upsert_team(command, uow)


@router.subscriber(**subscription("sessions", c.AddLocation))
async def on_add_location(command: c.AddLocation, uow: UoW) -> Reply:
    return await services.add_location(command, uow)


@router.subscriber(**subscription("sessions", c.CreateSchoolSession))
async def on_create_school_session(command: c.CreateSchoolSession, uow: UoW, clock: Now) -> Reply:
    return await services.create_school_session(command, uow, clock)


@router.subscriber(**subscription("sessions", c.SetClinicDates))
async def on_set_clinic_dates(command: c.SetClinicDates, uow: UoW, clock: Now) -> Reply:
    return await services.set_clinic_dates(command, uow, clock)


@router.subscriber(**subscription("sessions", c.CloseSchoolSession))
async def on_close_school_session(command: c.CloseSchoolSession, uow: UoW, clock: Now) -> Reply:
    return await services.close_school_session(command, uow, clock)


@router.subscriber(**subscription("sessions", c.RecordVaccination))
async def on_record_vaccination(command: c.RecordVaccination, uow: UoW, clock: Now) -> Reply:
    return await services.record_vaccination(command, uow, clock)


@router.subscriber(**subscription("sessions", c.GetSession))
async def on_get_session(query: c.GetSession, uow: UoW, clock: Now) -> Reply:
    return await services.get_session(query, uow, clock)


@router.subscriber(**subscription("sessions", c.GetClinicSession))
async def on_get_clinic_session(query: c.GetClinicSession, uow: UoW, clock: Now) -> Reply:
    return await services.get_clinic_session(query, uow, clock)


# Declared so the AsyncAPI document lists what this service publishes; the outbox relay sends them.
for _event in topology.published_by("sessions"):
    _route = topology.route_for(_event)
    router.publisher(
        exchange=exchange(_route.exchange, _route.exchange_type),
        routing_key=_route.routing_key,
        persist=True,
        schema=_event,
        title=f"{_route.routing_key}:publish",
        description=_event.__doc__,
    )
