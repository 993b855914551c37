"""A stream of confirmed messages through a quorum queue on the cluster, and the account of what arrived."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from faststream.rabbit import RabbitQueue
from faststream.rabbit.annotations import RabbitMessage
from faststream.rabbit.schemas.queue import QueueType

from contracts import topology
from msgkit.broker import make_broker
from msgkit.failover import FailoverBroker

PUBLISH_TIMEOUT = 5.0


def _broker(addresses: str) -> FailoverBroker:
    return make_broker(addresses, service="cluster-test", prefetch_count=50, graceful_timeout=5.0)


def quorum_queue(name: str) -> RabbitQueue:
    """Declared as msgkit declares every queue: durable, quorum, with an explicit delivery limit."""
    return RabbitQueue(
        name, queue_type=QueueType.QUORUM, durable=True, arguments={"x-delivery-limit": topology.DELIVERY_LIMIT}
    )


@dataclass(frozen=True, slots=True)
class Delivery:
    message_id: str
    redelivered: bool
    at: float


class Stream:
    """A msgkit broker on the address list with a subscriber on `queue`, publishing message after message.

    Each message is published persistent, mandatory and confirmed; one whose publish fails (the node died
    under it) is published again until confirmed, as the outbox relay does, so it may arrive twice.
    """

    def __init__(self, addresses: str, queue: str, *, consume_from: str | None = None) -> None:
        self.broker: FailoverBroker = _broker(addresses)
        # By default the publishing broker consumes too; `consume_from` gives the consumer a broker of its
        # own on that address list, so the publisher's channel only publishes (as an outbox relay's does).
        self.consumer = _broker(consume_from) if consume_from else self.broker
        self.queue = quorum_queue(queue)
        self.attempts: Counter[str] = Counter()
        self.first_attempt: dict[str, float] = {}
        self.confirmed: dict[str, float] = {}
        self.deliveries: list[Delivery] = []
        self.publish_errors = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

        @self.consumer.subscriber(self.queue)
        async def on_message(body: str, message: RabbitMessage) -> None:
            self.deliveries.append(Delivery(body, bool(message.raw_message.redelivered), time.monotonic()))

    async def __aenter__(self) -> Stream:
        if self.broker is not self.consumer:
            # Declared by the publisher, whose node (on RabbitMQ 3.10, the declaring node) leads the queue.
            await self.broker.start()
            await self.broker.declare_queue(self.queue)
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_publishing()
        await self.broker.stop()
        if self.broker is not self.consumer:
            await self.consumer.stop()

    def start_publishing(self) -> None:
        self._task = asyncio.create_task(self._publish_all())

    async def stop_publishing(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _publish_all(self) -> None:
        number = 0
        while not self._stop.is_set():
            await self._publish(f"m{number:06d}")
            number += 1
            await asyncio.sleep(0.005)

    async def _publish(self, message_id: str) -> None:
        self.first_attempt[message_id] = time.monotonic()
        while not self._stop.is_set():
            self.attempts[message_id] += 1
            try:
                await self.broker.publish(
                    message_id,
                    queue=self.queue.name,
                    message_id=message_id,
                    persist=True,
                    mandatory=True,
                    timeout=PUBLISH_TIMEOUT,
                )
            except Exception:
                self.publish_errors += 1
                await asyncio.sleep(0.05)
                continue
            self.confirmed[message_id] = time.monotonic()
            return

    # --- the account -------------------------------------------------------------------------------------

    def consumed(self) -> set[str]:
        return {d.message_id for d in self.deliveries}

    def confirmed_after(self, moment: float) -> int:
        return sum(1 for at in self.confirmed.values() if at > moment)

    def unexplained_duplicates(self) -> list[str]:
        """Messages delivered more than once that were published once and never flagged redelivered."""
        counts = Counter(d.message_id for d in self.deliveries)
        redelivered = {d.message_id for d in self.deliveries if d.redelivered}
        return sorted(m for m, n in counts.items() if n > 1 and self.attempts[m] == 1 and m not in redelivered)

    def failover_seconds(self, fault_at: float) -> float | None:
        """From the fault to the first delivery of a message first published after it: the consumer's gap."""
        after = [d.at for d in self.deliveries if self.first_attempt.get(d.message_id, 0.0) > fault_at]
        return min(after) - fault_at if after else None

    def longest_publish_gap(self) -> float:
        times = sorted(self.confirmed.values())
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)

    def summary(self) -> dict[str, Any]:
        return {
            "confirmed": len(self.confirmed),
            "consumed": len(self.consumed()),
            "deliveries": len(self.deliveries),
            "publish_errors": self.publish_errors,
            "republished": sum(1 for n in self.attempts.values() if n > 1),
            "channel_renewals": self.broker.channel_renewals,
        }
