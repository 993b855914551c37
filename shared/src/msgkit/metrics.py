"""Prometheus metrics every service exposes on /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_HANDLED = Counter(
    "clinics_messages_handled_total", "Messages consumed, by queue and outcome", ["service", "queue", "outcome"]
)
HANDLER_SECONDS = Histogram(
    "clinics_handler_seconds",
    "Time to handle one message",
    ["service", "queue"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DEAD_LETTERED = Counter("clinics_dead_lettered_total", "Messages dead-lettered with a reason", ["service", "queue"])
OUTBOX_PUBLISHED = Counter("clinics_outbox_published_total", "Outbox messages published", ["service"])
READY = Gauge("clinics_ready", "1 when the service is ready", ["service"])
BATCH_SIZE = Histogram(
    "clinics_batch_size",
    "Items that shared one transaction in a group-commit batch",
    ["batcher"],
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
)
