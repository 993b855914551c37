"""Time as a dependency: use cases take a Clock so tests can fix or move it."""

from __future__ import annotations

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


def london_today(clock: Clock) -> date:
    """Today's date in England, which is what session states and academic years are judged by."""
    return clock.now().astimezone(LONDON).date()


def academic_year_of(day: date) -> int:
    """Academic years run 1 September to 31 August; 2026-09-01..2027-08-31 is 2026."""
    return day.year if day.month >= 9 else day.year - 1
