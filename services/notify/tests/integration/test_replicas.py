"""Two replicas on one database: each reference sent once, and the shared rate limit never exceeded."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest

from notify.delivery.govuk_notify import GovUkNotifyProvider
from notify.delivery.providers import OutboundMessage, ProviderReceipt
from notify_stub import NotifyStub
from notify_stub.faults import RollingLimit

from ..notify_support import Harness, invite, request

pytestmark = pytest.mark.integration

LIMIT, WINDOW = 20, 2.0  # 20 per 2 s: a 600/min limit in miniature, so the test takes seconds


class Counting:
    """The shared provider, counting what this replica sent."""

    def __init__(self, provider: GovUkNotifyProvider) -> None:
        self.provider = provider
        self.sent = 0

    async def send(self, message: OutboundMessage) -> ProviderReceipt:
        self.sent += 1
        return await self.provider.send(message)

    async def find_by_reference(self, reference: str) -> ProviderReceipt | None:
        return await self.provider.find_by_reference(reference)


def busiest_window(stub: NotifyStub, seconds: float) -> int:
    times = sorted(s.received_at.timestamp() for s in stub.sent)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_two_replicas_send_each_reference_once_within_the_shared_limit(
    start_app: Any, harness: Harness, stub: NotifyStub, provider: GovUkNotifyProvider
) -> None:
    stub.limit = RollingLimit(LIMIT, window=WINDOW)  # the stub answers 429 if we ever exceed it
    limits = {
        "rate_limit_enabled": True,
        "rate_limit_bucket": f"test-{uuid.uuid4().hex[:8]}",
        "rate_limit_per_minute": LIMIT,
        "rate_limit_window_seconds": WINDOW,
        "rate_limit_burst": 4,
        "send_rate_per_second": 1000,
        "dispatcher_batch_size": 10,
    }
    replicas = [Counting(provider), Counting(provider)]
    for replica in replicas:
        await start_app(with_provider=replica, **limits)
    kids = await harness.setup_children(15, dates=[date(2026, 1, 20)])
    await harness.publish(invite(*(request(k) for k in kids), at=harness.clock.now()))
    for kid in kids:
        assert len(await harness.wait_notifications(kid.child_id, "sent", 3)) == 3
    references = Counter(s.reference for s in stub.sent)
    assert len(references) == 45 and set(references.values()) == {1}
    assert "rate_limited" not in stub.stats.totals
    assert busiest_window(stub, WINDOW) <= LIMIT
    assert all(r.sent > 0 for r in replicas), [r.sent for r in replicas]
    span = stub.sent[-1].received_at - stub.sent[0].received_at
    assert span >= timedelta(seconds=(45 - LIMIT) / (LIMIT / WINDOW))  # throttled, not a burst
