"""What bench.scale_daily counts: sends at the provider by day and channel, and afterwards in the database."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import asyncpg

from bench.stack import admin_dsn
from msgkit.clock import FixedClock
from notify.delivery.local_providers import LogProvider
from notify.delivery.providers import OutboundMessage, ProviderReceipt, RetryableProviderError


class CountingProvider:
    """The log provider, counting what it accepted per (day of the run's clock, channel) and per reference."""

    def __init__(self, clock: FixedClock, *, refuse_every: int = 0) -> None:
        self._inner = LogProvider(remember=1_000)
        self._clock = clock
        self._refuse_every = refuse_every
        self._calls = 0
        self.refused: set[str] = set()
        self.by_day: Counter[tuple[date, str]] = Counter()
        self.references: Counter[str] = Counter()

    async def send(self, message: OutboundMessage) -> ProviderReceipt:
        self._calls += 1
        if self._refuse_every and self._calls % self._refuse_every == 0 and message.reference not in self.refused:
            self.refused.add(message.reference)
            raise RetryableProviderError(429, error_code="RateLimitError")
        receipt = await self._inner.send(message)
        self.by_day[self._clock.now().date(), str(message.channel)] += 1
        self.references[message.reference] += 1
        return receipt

    async def find_by_reference(self, reference: str) -> ProviderReceipt | None:
        return await self._inner.find_by_reference(reference)


_SENT_BY_DAY = """
    SELECT CAST(sent_at AT TIME ZONE 'UTC' AS date) AS day, channel, count(*) AS n
    FROM notify.notifications WHERE status = 'sent' GROUP BY 1, 2 ORDER BY 1, 2
"""


async def count(
    database_url: str, seeded: Counter[str], caps: dict[str, int], provider: CountingProvider
) -> dict[str, Any]:
    conn = await asyncpg.connect(admin_dsn(database_url))
    try:
        sent = {(r["day"], r["channel"]): int(r["n"]) for r in await conn.fetch(_SENT_BY_DAY)}
        statuses = dict(await conn.fetch("SELECT status, count(*) FROM notify.notifications GROUP BY status"))
        granted = {
            (r["day"], r["channel"]): int(r["sent"]) for r in await conn.fetch("SELECT * FROM notify.daily_sends")
        }
    finally:
        await conn.close()
    by_day: dict[str, dict[str, int]] = {}
    for (day, channel), n in sorted(sent.items()):
        by_day.setdefault(str(day), {})[channel] = n
    over = {d for (d, c), n in sent.items() if n > caps[c]}
    over_at_provider = {d for (d, c), n in provider.by_day.items() if n > caps[c]}
    unsent = int(statuses.get("pending", 0)) + int(statuses.get("sending", 0))
    total = sum(seeded.values())
    return {
        "daily_cap_days": len({d for d, _ in sent}),
        "daily_cap_exceeded": len(over | over_at_provider),
        "lost": total - int(statuses.get("sent", 0)) - unsent,
        "sent_by_day": by_day,
        "messages": total,
        "messages_by_channel": dict(seeded),
        "statuses": {k: int(v) for k, v in statuses.items()},
        "provider_sends": sum(provider.by_day.values()),
        "provider_duplicates": sum(n - 1 for n in provider.references.values() if n > 1),
        "provider_refused": len(provider.refused),
        "granted_by_day": {f"{d} {c}": n for (d, c), n in sorted(granted.items())},
        "caps_unused_days": _unused(by_day, caps),
        "caps": caps,
    }


def _unused(by_day: dict[str, dict[str, int]], caps: dict[str, int]) -> int:
    """Days on which a channel sent less than its cap while it still had messages for later days."""
    return sum(
        1
        for day, sent in by_day.items()
        for channel, cap in caps.items()
        if sent.get(channel, 0) < cap and any(later > day and channel in v for later, v in by_day.items())
    )
