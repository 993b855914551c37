"""Use cases of the sessions service: one function per request, each owning its transaction."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import ParamSpec

from contracts import sessions as c
from contracts.envelope import Reply
from msgkit.clock import london_date
from sessions import convert
from sessions.domain import (
    Outcome,
    Refused,
    Session,
    SessionDate,
    Vaccination,
    long_date,
    new_clinic_session,
    new_school_session,
    programme_set,
)
from sessions.teams import LocationKind, Team, new_location
from sessions.uow import SessionsUnitOfWork

log = logging.getLogger(__name__)

P = ParamSpec("P")


def refusals_as_replies(use_case: Callable[P, Awaitable[Reply]]) -> Callable[P, Awaitable[Reply]]:
    """A rule's refusal becomes a failure reply; the transaction it was raised in has rolled back."""

    @functools.wraps(use_case)
    async def answer(*args: P.args, **kwargs: P.kwargs) -> Reply:
        try:
            return await use_case(*args, **kwargs)
        except Refused as refusal:
            log.info("request refused", extra={"use_case": use_case.__name__, "code": refusal.code})
            return Reply.failure(refusal.code, refusal.message)

    return answer


@refusals_as_replies
async def upsert_team(command: c.UpsertTeam, uow: SessionsUnitOfWork) -> Reply:
    team = convert.team(command.team)
    async with uow:
        if await uow.claim(command):
            # Unchanged settings publish nothing: TeamUpdated always carries the whole team.
            if await uow.teams.get(team.ods_code) != team:
                await uow.teams.save(team)
                uow.publish(convert.traced(c.TeamUpdated(team=convert.team_settings(team)), command))
                log.info("team saved", extra={"team_ods": team.ods_code})
            await uow.commit()
        current = await _team(uow, team.ods_code)
    return Reply.success(convert.team_settings(current))


@refusals_as_replies
async def add_location(command: c.AddLocation, uow: SessionsUnitOfWork) -> Reply:
    location = new_location(
        team_ods=command.team_ods, location_id=command.location_id, kind=command.kind, name=command.name
    )
    async with uow:
        if await uow.claim(command):
            await _team(uow, command.team_ods)
            await uow.teams.add_location(location)
            await uow.commit()
    return Reply.success(convert.location_details(location))


@refusals_as_replies
async def create_school_session(command: c.CreateSchoolSession, uow: SessionsUnitOfWork, now: datetime) -> Reply:
    wanted = new_school_session(
        session_id=command.session_id,
        team_ods=command.team_ods,
        school_urn=command.school_urn,
        programmes=command.programmes,
        dates=command.dates,
    )
    async with uow:
        if await uow.claim(command):
            await _team(uow, command.team_ods)
            if not await uow.teams.has_location(command.team_ods, LocationKind.SCHOOL, command.school_urn):
                raise Refused(
                    "unknown_school",
                    f"School {command.school_urn} is not a location of team {command.team_ods}; add it first.",
                )
            if await _add_or_amend(uow, wanted):
                uow.publish(convert.school_session_changed(wanted, cause=command))
            await uow.commit()
        session = await _session(uow, command.session_id)
    return Reply.success(convert.session_details(session, london_date(now)))


async def _add_or_amend(uow: SessionsUnitOfWork, wanted: Session) -> bool:
    existing = await uow.sessions.get(wanted.session_id, lock=True)
    if existing is None:
        await uow.sessions.add(wanted)
        log.info("school session created", extra={"session_id": str(wanted.session_id)})
        return True
    if not existing.amend_to(wanted, recorded=await uow.sessions.recorded_dates(existing.session_id)):
        return False
    await uow.sessions.save(existing)
    return True


@refusals_as_replies
async def set_clinic_dates(command: c.SetClinicDates, uow: SessionsUnitOfWork, now: datetime) -> Reply:
    key = (command.team_ods, command.academic_year, programme_set(command.programmes))
    async with uow:
        if await uow.claim(command):
            await _team(uow, command.team_ods)
            created = await uow.sessions.add_clinic_if_missing(
                new_clinic_session(session_id=uuid.uuid4(), team_ods=key[0], academic_year=key[1], programmes=key[2])
            )
            clinic = await _clinic(uow, *key, lock=True)
            dates = [SessionDate(on=d.on, venue_id=d.venue_id) for d in command.dates]
            _check_not_past(dates, held=clinic.dates, today=london_date(now))
            changed = clinic.set_dates(
                dates,
                venues=await uow.teams.clinic_venues(command.team_ods),
                recorded=await uow.sessions.recorded_dates(clinic.session_id),
            )
            if changed or created:
                await uow.sessions.save(clinic)
                uow.publish(convert.clinic_dates_changed(clinic, london_date(now), cause=command))
                log.info("clinic dates set", extra={"session_id": str(clinic.session_id), "dates": len(clinic.dates)})
            await uow.commit()
        clinic = await _clinic(uow, *key)
    return Reply.success(convert.session_details(clinic, london_date(now)))


def _check_not_past(dates: Sequence[SessionDate], *, held: Sequence[SessionDate], today: date) -> None:
    """A clinic date before today may be kept but not added: no one can be invited to a clinic that is over."""
    if past := sorted(d.on for d in dates if d.on < today and d.on not in {h.on for h in held}):
        raise Refused(
            "date_in_past",
            f"{long_date(past[0])} is in the past (today is {long_date(today)});"
            " a clinic date can be added from today on.",
        )


@refusals_as_replies
async def close_school_session(command: c.CloseSchoolSession, uow: SessionsUnitOfWork, now: datetime) -> Reply:
    """*Send clinic invitations*. A second close (a second click) sends nothing and says the session was closed."""
    async with uow:
        if await uow.claim(command):
            session = await _session(uow, command.session_id, lock=True)
            # Closing twice is a no-op: one SchoolSessionClosed per session, ever.
            if session.close(by=command.closed_by, at=now, today=london_date(now), request=command.message_id):
                await uow.sessions.save(session)
                uow.publish(convert.school_session_closed(session, cause=command))
                log.info("school session closed", extra={"session_id": str(session.session_id)})
            await uow.commit()
        session = await _session(uow, command.session_id)
        name = await uow.teams.school_name(session.team_ods, session.school_urn)
    # A redelivery of the closing request is not a second close; any other request to close it is.
    already = session.closed_by_request != command.message_id
    details = convert.session_details(session, london_date(now), school_name=name, already_closed=already)
    return Reply.success(details)


@refusals_as_replies
async def record_vaccination(command: c.RecordVaccination, uow: SessionsUnitOfWork, now: datetime) -> Reply:
    async with uow:
        if await uow.claim(command):
            existing = await uow.vaccinations.get(command.record_id)
            if existing is None:
                record = await _new_record(uow, command, now)
                if not command.confirm_repeat:
                    await _refuse_a_second_outcome(uow, record)
                if await uow.vaccinations.add(record):
                    uow.publish(convert.vaccination_recorded(record, cause=command))
                    log.info("vaccination recorded", extra={"record_id": str(record.record_id)})
            elif not _repeats(existing, command):
                raise Refused("record_id_conflict", "A different vaccination record already has this record_id.")
            await uow.commit()
        stored = await uow.vaccinations.get(command.record_id)
    if stored is None:
        raise Refused("not_found", f"There is no vaccination record {command.record_id}.")
    return Reply.success(convert.vaccination_details(stored))


async def _new_record(uow: SessionsUnitOfWork, command: c.RecordVaccination, now: datetime) -> Vaccination:
    session = await _session(uow, command.session_id)
    return session.record(
        record_id=command.record_id,
        child_id=command.child_id,
        programme=command.programme.value,
        outcome=Outcome(command.outcome.value),
        reason=command.reason.value if command.reason else None,
        venue_id=command.venue_id,
        parent_present=command.parent_present,
        performed_at=command.performed_at or now,
        recorded_by=command.recorded_by,
        now=now,
        venues=await uow.teams.clinic_venues(session.team_ods),
    )


async def _refuse_a_second_outcome(uow: SessionsUnitOfWork, record: Vaccination) -> None:
    """A second outcome of one child, programme and day is a mistake unless staff confirm it: never recorded twice
    silently. Two such requests at once are taken one after the other (the lock), so one of them sees the other."""
    await uow.vaccinations.lock_child(record.child_id, record.programme)
    earlier = await uow.vaccinations.on_day(record.child_id, record.programme, record.session_date)
    if earlier is not None:
        outcome = earlier.outcome.value.replace("_", " ")
        raise Refused(
            "already_recorded",
            f"This child already has an outcome for {record.programme} on {long_date(record.session_date)} "
            f"({outcome}, recorded by {earlier.recorded_by}, record {earlier.record_id}); "
            "record another only if it is a separate outcome, confirming it (--confirm).",
        )


def _repeats(existing: Vaccination, command: c.RecordVaccination) -> bool:
    return existing.repeats(
        child_id=command.child_id,
        session_id=command.session_id,
        programme=command.programme.value,
        outcome=Outcome(command.outcome.value),
        reason=command.reason.value if command.reason else None,
        parent_present=command.parent_present,
    )


@refusals_as_replies
async def get_session(query: c.GetSession, uow: SessionsUnitOfWork, now: datetime) -> Reply:
    async with uow:
        session = await _session(uow, query.session_id)
        name = await uow.teams.school_name(session.team_ods, session.school_urn)
    return Reply.success(convert.session_details(session, london_date(now), school_name=name))


@refusals_as_replies
async def get_clinic_session(query: c.GetClinicSession, uow: SessionsUnitOfWork, now: datetime) -> Reply:
    async with uow:
        clinic = await _clinic(uow, query.team_ods, query.academic_year, programme_set(query.programmes))
    return Reply.success(convert.session_details(clinic, london_date(now)))


@refusals_as_replies
async def list_team_schools(query: c.ListTeamSchools, uow: SessionsUnitOfWork) -> Reply:
    """The team's schools: `{"team_ods", "schools": [{"urn", "name"}]}` by name (the consent form's list)."""
    async with uow:
        await _team(uow, query.team_ods)
        schools = await uow.teams.schools(query.team_ods)
    return Reply.success({"team_ods": query.team_ods, "schools": [{"urn": u, "name": n} for u, n in schools]})


async def _team(uow: SessionsUnitOfWork, ods_code: str) -> Team:
    team = await uow.teams.get(ods_code)
    if team is None:
        raise Refused("not_found", f"There is no team with ODS code {ods_code}; create it with UpsertTeam first.")
    return team


async def _session(uow: SessionsUnitOfWork, session_id: uuid.UUID, *, lock: bool = False) -> Session:
    session = await uow.sessions.get(session_id, lock=lock)
    if session is None:
        raise Refused("not_found", f"There is no session with id {session_id}.")
    return session


async def _clinic(
    uow: SessionsUnitOfWork, team_ods: str, academic_year: int, programmes: tuple[str, ...], *, lock: bool = False
) -> Session:
    clinic = await uow.sessions.get_clinic(team_ods, academic_year, programmes, lock=lock)
    if clinic is None:
        raise Refused(
            "not_found",
            f"Team {team_ods} has no community clinic session for {academic_year}/{str(academic_year + 1)[-2:]} "
            f"and {', '.join(programmes)}; SetClinicDates creates it.",
        )
    return clinic
