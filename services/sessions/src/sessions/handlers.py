"""Request handlers of the sessions service: each calls exactly one use case and returns its Reply."""

from __future__ import annotations

from faststream.rabbit import RabbitRouter

from contracts import sessions as c
from contracts.envelope import Reply
from msgkit.broker import declare_publishers, make_router, subscription
from msgkit.wiring import Now, UoW
from sessions import services
from sessions.uow import SessionsUnitOfWork

Uow = UoW[SessionsUnitOfWork]


async def on_upsert_team(command: c.UpsertTeam, uow: Uow) -> Reply:
    return await services.upsert_team(command, uow)


async def on_add_location(command: c.AddLocation, uow: Uow) -> Reply:
    return await services.add_location(command, uow)


async def on_create_school_session(command: c.CreateSchoolSession, uow: Uow, now: Now) -> Reply:
    return await services.create_school_session(command, uow, now)


async def on_set_clinic_dates(command: c.SetClinicDates, uow: Uow, now: Now) -> Reply:
    return await services.set_clinic_dates(command, uow, now)


async def on_close_school_session(command: c.CloseSchoolSession, uow: Uow, now: Now) -> Reply:
    return await services.close_school_session(command, uow, now)


async def on_record_vaccination(command: c.RecordVaccination, uow: Uow, now: Now) -> Reply:
    return await services.record_vaccination(command, uow, now)


async def on_get_session(query: c.GetSession, uow: Uow, now: Now) -> Reply:
    return await services.get_session(query, uow, now)


async def on_get_clinic_session(query: c.GetClinicSession, uow: Uow, now: Now) -> Reply:
    return await services.get_clinic_session(query, uow, now)


async def on_list_team_schools(query: c.ListTeamSchools, uow: Uow) -> Reply:
    return await services.list_team_schools(query, uow)


def build_router() -> RabbitRouter:
    """A fresh router per app, so several app instances can run in one process (tests, benchmarks)."""
    router = make_router()
    router.subscriber(**subscription("sessions", c.UpsertTeam))(on_upsert_team)
    router.subscriber(**subscription("sessions", c.AddLocation))(on_add_location)
    router.subscriber(**subscription("sessions", c.CreateSchoolSession))(on_create_school_session)
    router.subscriber(**subscription("sessions", c.SetClinicDates))(on_set_clinic_dates)
    router.subscriber(**subscription("sessions", c.CloseSchoolSession))(on_close_school_session)
    router.subscriber(**subscription("sessions", c.RecordVaccination))(on_record_vaccination)
    router.subscriber(**subscription("sessions", c.GetSession))(on_get_session)
    router.subscriber(**subscription("sessions", c.GetClinicSession))(on_get_clinic_session)
    router.subscriber(**subscription("sessions", c.ListTeamSchools))(on_list_team_schools)
    declare_publishers(router, "sessions")
    return router
