"""Send limits every replica shares: a token bucket row per provider service, and per-day counts per channel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from notify.domain.timing import BucketShape
from notify.persistence import limits_sql


@dataclass(frozen=True, slots=True)
class Taken:
    tokens: int
    wait_seconds: float  # until the next whole token, when none were left


class SendLimits:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ensure_bucket(self, name: str, shape: BucketShape) -> None:
        params = {"name": name, "capacity": shape.capacity, "refill": shape.refill_per_second}
        await self.session.execute(limits_sql.ENSURE_BUCKET, params)

    async def take(self, name: str, wanted: int) -> Taken:
        await self.session.execute(limits_sql.LOCK, {"name": name})
        row = (await self.session.execute(limits_sql.TAKE, {"name": name, "wanted": wanted})).first()
        if row is None:
            raise LookupError(f"no rate bucket {name!r}")
        taken, tokens, refill = int(row.last_taken), float(row.tokens), float(row.refill_per_second)
        return Taken(tokens=taken, wait_seconds=max(0.0, (1.0 - tokens) / refill) if taken < wanted else 0.0)

    async def full_channels(self, day: date, limits: Mapping[str, int]) -> set[str]:
        """The channels with nothing left of `day`'s limit (read without locking: `grant_daily` still decides)."""
        channels = sorted(limits)
        params = {"day": day, "channels": channels, "limits": [limits[c] for c in channels]}
        return {r.channel for r in (await self.session.execute(limits_sql.FULL, params)).all()}

    async def refund_daily(self, day: date, counts: Mapping[str, int]) -> None:
        """Give back grants of `day` that no send used (the provider refused the attempt, or none was made)."""
        for channel in sorted(c for c, n in counts.items() if n):
            await self.session.execute(limits_sql.REFUND, {"day": day, "channel": channel, "count": counts[channel]})

    async def grant_daily(self, day: date, wanted: Mapping[str, int], limits: Mapping[str, int]) -> dict[str, int]:
        """How many of the sends `wanted` per channel still fit in `day`'s limits (and counts them)."""
        if not wanted:
            return {}
        channels = sorted(wanted)
        params = {
            "day": day,
            "channels": channels,
            "wanted": [wanted[c] for c in channels],
            "limits": [limits[c] for c in channels],
        }
        return {r.channel: int(r.last_granted) for r in (await self.session.execute(limits_sql.DAILY, params)).all()}
