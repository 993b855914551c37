"""Between contract models (the border) and domain objects: outgoing events and reply data."""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from contracts import sessions as c
from contracts.common import Programme
from contracts.envelope import Message
from sessions.domain import Session, Vaccination
from sessions.teams import Location, Team

E = TypeVar("E", bound=Message)


def traced(event: E, cause: Message) -> E:
    """`event` carrying the correlation and causation of the request that caused it."""
    return event.model_copy(update=cause.caused_by(cause))


def team(settings: c.TeamSettings) -> Team:
    return Team(
        ods_code=settings.ods_code,
        name=settings.name,
        email=str(settings.email),
        phone=settings.phone,
        booking_url=str(settings.booking_url) if settings.booking_url else None,
        days_before_invitations=settings.days_before_invitations,
        send_window_start=settings.send_window_start,
        send_window_end=settings.send_window_end,
        reply_to_id=settings.reply_to_id,
        programmes=tuple(p.value for p in settings.programmes),
    )


def team_settings(t: Team) -> c.TeamSettings:
    return c.TeamSettings.model_validate(
        {
            "ods_code": t.ods_code,
            "name": t.name,
            "email": t.email,
            "phone": t.phone,
            "booking_url": t.booking_url,
            "days_before_invitations": t.days_before_invitations,
            "send_window_start": t.send_window_start,
            "send_window_end": t.send_window_end,
            "reply_to_id": t.reply_to_id,
            "programmes": list(t.programmes),
        }
    )


def location_details(location: Location) -> c.LocationDetails:
    return c.LocationDetails(
        team_ods=location.team_ods, location_id=location.location_id, kind=location.kind.value, name=location.name
    )


def _programmes(session: Session) -> list[Programme]:
    return [Programme(p) for p in session.programmes]


def _dates(session: Session) -> list[c.ClinicDate]:
    return [c.ClinicDate(on=d.on, venue_id=d.venue_id) for d in session.dates]


def session_details(
    session: Session, today: date, *, school_name: str | None = None, already_closed: bool = False
) -> c.SessionDetails:
    return c.SessionDetails(
        session_id=session.session_id,
        kind=session.kind,
        state=session.state(today),
        team_ods=session.team_ods,
        academic_year=session.academic_year,
        programmes=_programmes(session),
        dates=_dates(session),
        school_urn=session.school_urn,
        first_upcoming_date=session.first_upcoming_date(today),
        last_date=session.last_date,
        consent_window_closes_on=session.consent_window_closes_on,
        closed_at=session.closed_at,
        closed_by=session.closed_by,
        school_name=school_name,
        already_closed=already_closed,
    )


def school_session_changed(session: Session, *, cause: Message) -> c.SchoolSessionChanged:
    event = c.SchoolSessionChanged(
        session_id=session.session_id,
        team_ods=session.team_ods,
        school_urn=session.school_urn or "",
        programmes=_programmes(session),
        academic_year=session.academic_year,
        dates=[d.on for d in session.dates],
    )
    return traced(event, cause)


def clinic_dates_changed(session: Session, today: date, *, cause: Message) -> c.ClinicDatesChanged:
    event = c.ClinicDatesChanged(
        session_id=session.session_id,
        team_ods=session.team_ods,
        programmes=_programmes(session),
        academic_year=session.academic_year,
        dates=_dates(session),
        first_upcoming_date=session.first_upcoming_date(today),
        last_date=session.last_date,
        consent_window_closes_on=session.consent_window_closes_on,
    )
    return traced(event, cause)


def school_session_closed(session: Session, *, cause: Message) -> c.SchoolSessionClosed:
    event = c.SchoolSessionClosed(
        session_id=session.session_id,
        team_ods=session.team_ods,
        school_urn=session.school_urn or "",
        programmes=_programmes(session),
        academic_year=session.academic_year,
        closed_by=session.closed_by or "",
    )
    return traced(event, cause)


def _vaccination_fields(v: Vaccination) -> dict[str, object]:
    return {
        "record_id": v.record_id,
        "child_id": v.child_id,
        "team_ods": v.team_ods,
        "programme": v.programme,
        "session_id": v.session_id,
        "session_kind": v.session_kind.value,
        "academic_year": v.academic_year,
        "outcome": v.outcome.value,
        "reason": v.reason,
        "venue_id": v.venue_id,
        "parent_present": v.parent_present,
        "performed_at": v.performed_at,
        "recorded_by": v.recorded_by,
    }


def vaccination_recorded(v: Vaccination, *, cause: Message) -> c.VaccinationRecorded:
    return traced(c.VaccinationRecorded.model_validate(_vaccination_fields(v)), cause)


def vaccination_details(v: Vaccination) -> c.VaccinationDetails:
    return c.VaccinationDetails.model_validate(_vaccination_fields(v))
