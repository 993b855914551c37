"""Claiming sends: due notifications re-checked, then admitted within the window, the rate limit and daily limits.

Channels whose daily limit is used up are not claimed at all until midnight UTC, and nothing is in the
seconds before it (`timing.DAY_END_GUARD`): Notify's days end at midnight UTC.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from notify.delivery import rechecks
from notify.domain.notifications import Notification, RetryPolicy
from notify.domain.timing import DAY_END_GUARD, next_opening, next_utc_midnight
from notify.persistence.uow import NotifyUnitOfWork


@dataclass(frozen=True, slots=True)
class SendPolicy:
    """The knobs of claiming and retrying (from settings)."""

    bucket: str
    rate_limited: bool
    daily_limits: dict[str, int]
    max_attempts: int
    retry_base: float
    retry_max: float
    in_flight: float = 0.0

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts, base=self.retry_base, cap=self.retry_max, in_flight=self.in_flight
        )


@dataclass(frozen=True, slots=True)
class Claimed:
    notifications: list[Notification]
    found: int  # due rows seen, including those deferred or left for lack of tokens
    wait_seconds: float  # until the rate limit has a token again
    day: date | None = None  # the UTC day whose daily limits granted these sends


NOTHING_CLAIMED = Claimed([], 0, 0.0)


@dataclass(frozen=True, slots=True)
class Admitted:
    ready: list[Notification]
    deferred: list[tuple[str, datetime]]  # (id, when it may be tried): a closed window, or midnight is near
    wait_seconds: float


NOTHING_ADMITTED = Admitted([], [], 0.0)


async def claim_sends(uow: NotifyUnitOfWork, now: datetime, *, limit: int, policy: SendPolicy) -> Claimed:
    """Claim due notifications within the sending window, the shared rate limit and the daily limits.

    Each is re-checked first (`rechecks.recheck`), so a message whose purpose has gone while it waited
    (for its window, the daily limit or a retry) is cancelled instead of sent.
    """
    midnight = next_utc_midnight(now)
    if midnight - now < DAY_END_GUARD:
        return Claimed([], 0, (midnight - now).total_seconds())
    async with uow:
        full = await uow.limits.full_channels(now.astimezone(UTC).date(), policy.daily_limits)
        channels = set(policy.daily_limits) - full if full else None
        if channels is not None and not channels:
            return NOTHING_CLAIMED  # until midnight
        rows = await uow.notifications.claim_due(now, limit, channels=channels)
        admitted = await admit(uow, await rechecks.recheck(uow, rows, now), now, policy)
        await uow.notifications.defer(admitted.deferred)
        await uow.notifications.mark_sending([n.id for n in admitted.ready], now)
        await uow.commit()
    sends = [replace(n, attempts=n.attempts + 1) for n in admitted.ready]
    return Claimed(sends, len(rows), admitted.wait_seconds, now.astimezone(UTC).date())


async def admit(uow: NotifyUnitOfWork, rows: list[Notification], now: datetime, policy: SendPolicy) -> Admitted:
    """Which of `rows` may be sent now: inside their sending window, the shared rate limit and the daily limits."""
    day, spill = now.astimezone(UTC).date(), next_utc_midnight(now)  # Notify's days end at midnight UTC
    if spill - now < DAY_END_GUARD:
        return Admitted([], [(n.id, _opening(n, spill)) for n in rows], 0.0)
    deferred = [(n.id, _opening(n, now)) for n in rows if _opening(n, now) > now]
    later = {i for i, _ in deferred}
    ready = [n for n in rows if n.id not in later]
    wait = 0.0
    if policy.rate_limited and ready:
        taken = await uow.limits.take(policy.bucket, len(ready))
        ready, wait = ready[: taken.tokens], taken.wait_seconds
    granted = await uow.limits.grant_daily(day, Counter(n.channel for n in ready), policy.daily_limits)
    over: set[str] = set()
    for channel, count in granted.items():
        over |= {n.id for n in [n for n in ready if n.channel == channel][count:]}
    # Those over the day's limit stay as they are: their channel is not claimed again until the day has
    # room, which a grant given back (a refused send) makes before midnight.
    return Admitted([n for n in ready if n.id not in over], deferred, wait)


def _opening(n: Notification, at: datetime) -> datetime:
    return next_opening(at, n.window) if n.window else at
