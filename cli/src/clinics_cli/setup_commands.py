"""Setting a team up: its settings, locations, school sessions and community clinic dates."""

from __future__ import annotations

import uuid
from datetime import time
from typing import Annotated

import typer

from clinics_cli import views
from clinics_cli.params import (
    LocationKind,
    Programmes,
    SomeProgrammes,
    Team,
    Year,
    parse_clinic_date,
    parse_date,
    this_year,
)
from clinics_cli.runner import ask, guarded
from contracts import sessions
from contracts.common import Programme
from msgkit.clock import academic_year_of

team_app = typer.Typer(help="Teams and their settings.", no_args_is_help=True)
session_app = typer.Typer(help="School sessions and community clinic dates.", no_args_is_help=True)


def _time(text: str, option: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a time like 09:00", param_hint=option) from None


@team_app.command("set")
@guarded
def team_set(
    ods: Annotated[str, typer.Option("--ods", help="The team's ODS code.")],
    name: Annotated[str, typer.Option(help="The team's name as parents read it.")],
    email: Annotated[str, typer.Option(help="The team's email address.")],
    phone: Annotated[str, typer.Option(help="The team's phone number.")],
    booking_url: Annotated[str | None, typer.Option(help="The team's booking service link.")] = None,
    days_before: Annotated[int, typer.Option(help="Invitations go out this many days before the first date.")] = 21,
    window_start: Annotated[str, typer.Option(help="Sending window opens (Europe/London), HH:MM.")] = "09:00",
    window_end: Annotated[str, typer.Option(help="Sending window closes (Europe/London), HH:MM[:SS].")] = "19:00",
    programme: SomeProgrammes = None,
) -> None:
    """Create a team, or change its settings (give them all: the team is replaced as a whole)."""
    settings = sessions.TeamSettings.model_validate(
        {
            "ods_code": ods,
            "name": name,
            "email": email,
            "phone": phone,
            "booking_url": booking_url,
            "days_before_invitations": days_before,
            "send_window_start": _time(window_start, "--window-start"),
            "send_window_end": _time(window_end, "--window-end"),
            "programmes": programme or [Programme.FLU],
        }
    )
    ask(sessions.UpsertTeam(team=settings), views.record("team"))


@team_app.command("add-location")
@guarded
def add_location(
    team: Team,
    location_id: Annotated[str, typer.Option("--id", help="A school's URN, or a clinic venue's id.")],
    kind: Annotated[LocationKind, typer.Option(help="school or community_clinic.")],
    name: Annotated[str, typer.Option(help="The location's name.")],
) -> None:
    """Add a school (by URN) or a real community clinic venue to a team."""
    message = sessions.AddLocation(team_ods=team, location_id=location_id, kind=kind.value, name=name)
    ask(message, views.record("location"))


@session_app.command("create-school")
@guarded
def create_school_session(
    team: Team,
    urn: Annotated[str, typer.Option(help="The school's URN (a location of the team).")],
    programme: Programmes,
    on: Annotated[list[str], typer.Option("--date", help="YYYY-MM-DD; repeat for several days.")],
    session_id: Annotated[uuid.UUID | None, typer.Option("--id", help="Amend this session's dates.")] = None,
) -> None:
    """Create a school session (or, with --id, amend its dates)."""
    message = sessions.CreateSchoolSession(
        session_id=session_id or uuid.uuid4(),
        team_ods=team,
        school_urn=urn,
        programmes=programme,
        dates=[parse_date(d) for d in on],
    )
    ask(message, views.session)


@session_app.command("clinic-dates")
@guarded
def clinic_dates(
    team: Team,
    programme: Programmes,
    year: Year = None,
    on: Annotated[
        list[str] | None, typer.Option("--date", help="YYYY-MM-DD or YYYY-MM-DD@venue-id; repeat for several.")
    ] = None,
) -> None:
    """Schedule the community clinic: the full list of dates replaces the old one (add, amend or remove)."""
    dates = [parse_clinic_date(d) for d in on or []]
    academic_year = year or (academic_year_of(dates[0].on) if dates else this_year())
    ask(
        sessions.SetClinicDates(team_ods=team, academic_year=academic_year, programmes=programme, dates=dates),
        views.session,
    )


@session_app.command("clinic")
@guarded
def clinic_session(team: Team, programme: Programmes, year: Year = None) -> None:
    """The team's community clinic session for a year and programmes: its state and dates."""
    ask(
        sessions.GetClinicSession(team_ods=team, academic_year=year or this_year(), programmes=programme),
        views.session,
    )


@session_app.command("show")
def show_session(session_id: uuid.UUID) -> None:
    """A session's kind, state, dates and programmes."""
    ask(sessions.GetSession(session_id=session_id), views.session)
