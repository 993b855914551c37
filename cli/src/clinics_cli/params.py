"""Option types and parsers the commands share."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import typer

from contracts.common import Programme
from contracts.sessions import ClinicDate
from msgkit.clock import LONDON, SystemClock, academic_year_of, london_today

Team = Annotated[str, typer.Option("--team", help="The team's ODS code, e.g. RYG.")]
By = Annotated[str, typer.Option("--by", help="Who is doing this (recorded).")]
Programmes = Annotated[list[Programme], typer.Option("--programme", "-p", help="A programme; repeat for several.")]
SomeProgrammes = Annotated[
    list[Programme] | None,
    typer.Option("--programme", "-p", help="A programme; repeat for several (default: the team's programmes)."),
]
Year = Annotated[
    int | None, typer.Option("--year", help="Academic year by its first calendar year, e.g. 2026 for 2026/27.")
]


class LocationKind(StrEnum):
    SCHOOL = "school"
    COMMUNITY_CLINIC = "community_clinic"


def today() -> date:
    return london_today(SystemClock())


def this_year() -> int:
    return academic_year_of(today())


def parse_date(text: str, option: str = "--date") -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date like 2026-12-01", param_hint=option) from None


def parse_clinic_date(text: str) -> ClinicDate:
    """`2026-12-01` or `2026-12-01@venue-id`."""
    day, _, venue = text.partition("@")
    return ClinicDate(on=parse_date(day), venue_id=venue or None)


def parse_moment(text: str, option: str = "--at") -> datetime:
    """An ISO date-time; without an offset it is Europe/London wall-clock time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date-time like 2026-11-18T10:30", param_hint=option) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LONDON)
