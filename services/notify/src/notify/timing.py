"""Timing rules beyond the sending window: first clinic date, due times on re-timing, retries, send limits."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from notify.domain import Team
from notify.scheduling import LONDON, SendingWindow, invitation_due_at, next_opening


@dataclass(frozen=True, slots=True)
class ClinicSession:
    programmes: frozenset[str]
    dates: tuple[date, ...]


def london_date(at: datetime) -> date:
    return at.astimezone(LONDON).date()


def first_clinic_date(sessions: Iterable[ClinicSession], programmes: Iterable[str], today: date) -> date | None:
    """The first clinic date after today of any of the team's clinic sessions offering one of `programmes`."""
    wanted = set(programmes)
    upcoming = [d for s in sessions if s.programmes & wanted for d in s.dates if d > today]
    return min(upcoming, default=None)


def due_at(
    *,
    now: datetime,
    requested_at: datetime,
    first_date: date | None,
    team: Team,
    trigger: str,
) -> datetime | None:
    """When an invitation is due, judged now but with the staff "next day" rule counted from the request.

    Re-timing after dates move must not push a staff invitation another day later, so the rules of
    `scheduling.invitation_due_at` run from the request time and the result is never before now.
    """
    if first_date is None or first_date <= london_date(now):
        return None
    due = invitation_due_at(
        now=min(requested_at, now),
        first_clinic_date=first_date,
        days_before=team.days_before_invitations,
        trigger="staff" if trigger == "staff" else "automatic",
        window=team.window,
    )
    return None if due is None else next_opening(max(due, now), team.window)


def window_of(start: time | None, end: time | None) -> SendingWindow | None:
    return None if start is None or end is None else SendingWindow(start, end)


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


# --- rate limit ------------------------------------------------------------------------------


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
