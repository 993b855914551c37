"""When things may happen: sending windows, invitation due times (SPEC §2.3), retries, UTC days, the rate bucket.

London calendar days and wall-clock times are msgkit.clock's (`LONDON`, `london_date`): one place for them.

The due-time rules, all on London calendar days and wall-clock times (`invitation_due_at`):

* No upcoming clinic date -> None: the invitation waits and is re-timed when dates are added. A first
  clinic date that is today or in the past (London) is not upcoming and is also "no date"; callers pass
  the first date *after* today.
* ``automatic``: the window opening on ``first_clinic_date - days_before`` days. If the child joins
  after that point (or it is otherwise already past), the invitation is due now, moved to the next
  window opening if now is outside the window: ``next_opening(max(now, opening_on(first - days_before)))``.
* ``staff`` (*Send clinic invitations*, *Invite to community clinic*): the window opening on the London
  day after now, whatever the first clinic date -- staff are told "an invitation will go out to the
  parents the next day", and waiting for the day before it is not what they were told. Not today, so a
  child vaccinated today is not invited. Only children who join automatically (home-educated, unknown
  school) wait for ``days_before``.

The result is always inside the window. Nothing here cancels an invitation whose due time falls on or
after the first clinic date (for example a staff invite the day before a clinic); eligibility is
checked again at send time.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from msgkit.clock import LONDON, london_date

Trigger = Literal["automatic", "staff"]

# A call claimed this close to midnight UTC could reach the provider after it, where it counts against
# the next day's limit on top of everything that day grants: such sends wait for midnight instead.
DAY_END_GUARD = timedelta(seconds=10)


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


def window_of(start: time | None, end: time | None) -> SendingWindow | None:
    return None if start is None or end is None else SendingWindow(start, end)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


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

    The rules are the module's (SPEC §2.3).
    """
    _require_aware(now, "now")
    if days_before < 0:
        raise ValueError("days_before must not be negative")
    today = london_date(now)
    if first_clinic_date is None or first_clinic_date <= today:
        return None
    if trigger == "staff":
        due = opening_on(today + timedelta(days=1), window)
    elif trigger == "automatic":
        due = max(now.astimezone(UTC), opening_on(first_clinic_date - timedelta(days=days_before), window))
    else:
        raise ValueError(f"unknown trigger {trigger!r}")
    return next_opening(due, window)


@dataclass(frozen=True, slots=True)
class ClinicSession:
    programmes: frozenset[str]
    dates: tuple[date, ...]


def first_clinic_date(sessions: Iterable[ClinicSession], programmes: Iterable[str], today: date) -> date | None:
    """The first clinic date after today of any of the team's clinic sessions offering one of `programmes`."""
    wanted = set(programmes)
    upcoming = [d for s in sessions if s.programmes & wanted for d in s.dates if d > today]
    return min(upcoming, default=None)


def next_utc_midnight(now: datetime) -> datetime:
    day = now.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def retry_at(
    now: datetime,
    *,
    attempts: int,
    base: float,
    cap: float,
    floor: float | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """Exponential backoff with jitter (half to all of the step), never sooner than `floor` seconds."""
    step = min(cap, base * 2 ** max(0, attempts - 1))
    delay = step * (0.5 + 0.5 * (rng or random).random())
    return now + timedelta(seconds=max(delay, floor or 0.0))


@dataclass(frozen=True, slots=True)
class BucketShape:
    capacity: float
    refill_per_second: float


def bucket_shape(*, limit: int, window: float, burst: int, send_rate: float, jitter: float = 1.0) -> BucketShape:
    """A token bucket that can never let more than `limit` through in any `window` seconds at the provider.

    Tokens are taken in the claiming transaction and the calls reach the provider after its commit, a
    delay that varies by up to `jitter` seconds (a slower commit, a wait for a pooled connection). So
    the calls in any provider window had their tokens taken within window + jitter seconds, and at
    most capacity + (window + jitter) * refill tokens are taken in that time: refill keeps this sum
    under the limit, and no faster than the configured steady send rate.
    """
    capacity = max(1, min(burst, limit // 10 or 1))
    refill = (limit - capacity) / (window + jitter)
    return BucketShape(capacity=float(capacity), refill_per_second=max(0.001, min(send_rate, refill)))
