"""Time: use cases take a Clock so tests can fix or move it, and people read times in one form.

`readable` lives here, not in `contracts`: it is how a person reads a time, not part of any message,
and both the services' sentences (cohort's activity log, refusals) and the `clinics` tables need it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock tests set and move by hand."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def london_date(moment: datetime) -> date:
    """The date in England at `moment`, which is what session states and academic years are judged by."""
    return moment.astimezone(LONDON).date()


def london_today(clock: Clock) -> date:
    """Today's date in England by `clock`."""
    return london_date(clock.now())


def academic_year_of(day: date) -> int:
    """Academic years run 1 September to 31 August; 2026-09-01..2027-08-31 is 2026."""
    return day.year if day.month >= 9 else day.year - 1


# Spelled out rather than strftime's %b, whose month names follow the process's locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Only a date-time that names its offset: a naive one says nothing about which zone it is in.
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)")


def readable(value: date) -> str:
    """A moment or a day as people read it: "2 Dec 2026 19:08" (Europe/London, to the minute), "2 Dec 2026".

    A datetime must be aware; it is converted with the zone database, so summer time is right on
    either side of each change, whatever year.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("readable() needs an aware datetime")
        local = value.astimezone(LONDON)
        return f"{readable(local.date())} {local:%H:%M}"
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def readable_iso(text: str) -> str:
    """`readable` of an ISO 8601 date or offset date-time written as text (JSON, JSONB); other text as it is."""
    try:
        if _ISO_DATE.fullmatch(text):
            return readable(date.fromisoformat(text))
        if _ISO_MOMENT.fullmatch(text):
            return readable(datetime.fromisoformat(text))
    except ValueError:  # the shape of a date, but no such day (2026-02-30)
        pass
    return text
