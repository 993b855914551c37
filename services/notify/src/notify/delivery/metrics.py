"""Prometheus metrics of notify's dispatcher (exposed on /metrics with the kit's own)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter

from notify.domain.notifications import Attempt

PROVIDER_CALLS = Counter(
    "clinics_notify_provider_calls_total", "Provider calls by channel and outcome", ["channel", "outcome"]
)


def outcome(attempt: Attempt) -> str:
    if attempt.provider_id:
        return "sent"
    if attempt.failure is not None:
        return str(attempt.failure)
    if attempt.cancel_reason is not None:
        return "cancelled"
    return "ambiguous" if attempt.lookup else "retry"


def record(attempts: Iterable[Attempt]) -> None:
    for a in attempts:
        PROVIDER_CALLS.labels(a.notification.channel, outcome(a)).inc()


DELIVERY_RECEIPTS = Counter("clinics_notify_delivery_receipts_total", "Delivery receipts posted, by result", ["result"])
