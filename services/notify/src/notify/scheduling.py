"""When invitations are due: sending windows, the SPEC §2.3 timing rules and academic years."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

Trigger = Literal["automatic", "staff"]


@dataclass(frozen=True, slots=True)
class SendingWindow:
    """The local (Europe/London) hours in which messages may be sent: [start, end).

    Both times are wall-clock London times, so the window is 09:00-19:00 in GMT and in BST alike.
    """

    start: time = time(9, 0)
    end: time = time(19, 0)

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("sending window times are naive London wall-clock times")
        if not self.start < self.end:
            raise ValueError("sending window must start before it ends on the same day")


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _london_date(at: datetime) -> date:
    return at.astimezone(LONDON).date()


def opening_on(day: date, window: SendingWindow) -> datetime:
    """The UTC instant at which the window opens on a London calendar day.

    The offset is looked up for that day, so 09:00 is 09:00Z in winter and 08:00Z in summer.
    """
    # A start inside the spring-forward gap (01:00-02:00) resolves with fold=0, i.e. one hour
    # later in wall-clock time; the default 09:00 never meets this.
    return datetime.combine(day, window.start, tzinfo=LONDON).astimezone(UTC)


def next_opening(at: datetime, window: SendingWindow) -> datetime:
    """`at` itself if it is inside the window (London time), else the window's next opening.

    Takes and returns aware datetimes; the result is in UTC. The window is half-open, so 19:00
    exactly is outside and moves to 09:00 the next London day.
    """
    _require_aware(at, "at")
    local = at.astimezone(LONDON)
    wall = local.time().replace(tzinfo=None)
    if window.start <= wall < window.end:
        return at.astimezone(UTC)
    day = local.date() if wall < window.start else local.date() + timedelta(days=1)
    return opening_on(day, window)


def invitation_due_at(
    *,
    now: datetime,
    first_clinic_date: date | None,
    days_before: int,
    trigger: Trigger,
    window: SendingWindow,
) -> datetime | None:
    """When an invitation should be handed to the provider (aware UTC), or None if it must wait.

    Rules (SPEC §2.3), all computed on London calendar days and wall-clock times:

    * No upcoming clinic date -> ``None``: the invitation waits and is re-timed when dates are
      added. A ``first_clinic_date`` that is today or in the past (London) is not upcoming and
      is also treated as "no date"; callers pass the first date *after* today.
    * ``automatic``: the window opening on ``first_clinic_date - days_before`` days. If the
      child joins after that point (or it is otherwise already past), the invitation is due
      ``now``, moved to the next window opening if ``now`` is outside the window.
      i.e. ``next_opening(max(now, opening_on(first - days_before)))``.
    * ``staff`` (*Send clinic invitations*, *Invite to community clinic*): never before the
      window opening on the London day after ``now`` -- so a child vaccinated today is not
      invited -- and never earlier than the automatic rule would send it either, i.e.
      ``max(automatic due, opening_on(today + 1))``. Staff triggering therefore only ever
      delays, never advances, an invitation.

    The result is always inside the window. Nothing here cancels an invitation whose due time
    falls on or after the first clinic date (for example a staff invite the day before a clinic);
    eligibility is checked again at send time.
    """
    _require_aware(now, "now")
    if days_before < 0:
        raise ValueError("days_before must not be negative")
    today = _london_date(now)
    if first_clinic_date is None or first_clinic_date <= today:
        return None
    due = max(now.astimezone(UTC), opening_on(first_clinic_date - timedelta(days=days_before), window))
    if trigger == "staff":
        due = max(due, opening_on(today + timedelta(days=1), window))
    elif trigger != "automatic":
        raise ValueError(f"unknown trigger {trigger!r}")
    return next_opening(due, window)


def academic_year_of(d: date) -> int:
    """The academic year (1 September - 31 August) containing `d`, named by its starting year.

    2026-09-01 .. 2027-08-31 -> 2026.
    """
    return d.year if d.month >= 9 else d.year - 1
