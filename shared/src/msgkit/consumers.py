"""Consumers the broker no longer delivers to, found and attached again (FastStream #2758).

After a RabbitMQ node is replaced, queues have been seen left with zero consumers while the service believed
it was consuming: FastStream's `subscriber.running` stays True whatever happened to the consumer. A
subscriber is attached when its consumer tag is registered on its channel's live AMQP channel (aiormq drops
a tag the moment the broker cancels it) and the broker counts at least one consumer on its queue. While the
connection is down nothing is decided: aio-pika restores consumers itself once it is back. A subscriber
found detached on two checks in a row, with the connection up, is stopped and started again, which
consumes afresh; readiness reports detached subscribers meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aio_pika.abc import AbstractRobustConnection
from faststream.rabbit import RabbitBroker
from faststream.rabbit.subscriber.usecase import RabbitSubscriber
from prometheus_client import Counter

log = logging.getLogger(__name__)

REATTACHED = Counter(
    "clinics_consumers_reattached_total", "Consumers found detached and attached again", ["service", "queue"]
)
# How long a check waits for a channel that is being restored before calling the answer unknown.
CHANNEL_WAIT = 1.0


def consuming_subscribers(broker: RabbitBroker) -> list[RabbitSubscriber]:
    return [s for s in broker.subscribers if isinstance(s, RabbitSubscriber) and s.calls and s.running]


async def registered(subscriber: RabbitSubscriber) -> bool | None:
    """True if the subscriber's consumer tag is on its live channel, False if not, None while reconnecting."""
    queue: Any = subscriber._queue_obj
    tag = subscriber._consumer_tag
    if queue is None or tag is None:
        return False
    try:
        channel = await asyncio.wait_for(queue.channel.get_underlay_channel(), timeout=CHANNEL_WAIT)
    except Exception:  # a timeout, or no channel yet: being restored
        return None
    if channel.is_closed:
        return None
    return tag in channel.consumers


class ConsumerWatchdog:
    """Checks every `interval` seconds that each consuming subscriber is attached; re-attaches it if not."""

    def __init__(self, broker: RabbitBroker, *, service: str, interval: float = 15.0) -> None:
        self._broker = broker
        self._service = service
        self._interval = interval
        self._suspects: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    async def detached(self, *, count_on_broker: bool = True) -> list[str]:
        """Queues whose subscriber is not attached now. Nothing is decided while the connection is down."""
        if not self._connected():
            return []
        found = []
        counts = await self._consumer_counts() if count_on_broker else {}
        for subscriber in consuming_subscribers(self._broker):
            name = subscriber.queue.name
            if await registered(subscriber) is False or counts.get(name) == 0:
                found.append(name)
        return found

    async def check_once(self) -> list[str]:
        """One round: re-attach what was detached on the previous round too; returns the queues re-attached."""
        detached = set(await self.detached())
        again, self._suspects = detached & self._suspects, detached - self._suspects
        for subscriber in consuming_subscribers(self._broker):
            if subscriber.queue.name in again:
                await self._reattach(subscriber)
        return sorted(again)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"{self._service}-consumer-watchdog")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.check_once()
            except Exception:
                log.warning("consumer check failed; next one in %ss", self._interval, exc_info=True)

    async def _reattach(self, subscriber: RabbitSubscriber) -> None:
        name = subscriber.queue.name
        log.warning("consumer on %s is detached; attaching it again", name, extra={"queue": name})
        await subscriber.stop()
        await subscriber.start()
        REATTACHED.labels(self._service, name).inc()

    def _connected(self) -> bool:
        connection: Any = self._broker._connection
        return isinstance(connection, AbstractRobustConnection) and connection.connected.is_set()

    async def _consumer_counts(self) -> dict[str, int]:
        """Consumers the broker counts on each subscribed queue (passive declares on a channel of their own,
        so a queue that has gone cannot close the consumers' channel)."""
        connection: Any = self._broker._connection
        counts: dict[str, int] = {}
        try:
            channel = await asyncio.wait_for(connection.channel(publisher_confirms=False), timeout=CHANNEL_WAIT)
        except Exception:
            return {}
        try:
            for subscriber in consuming_subscribers(self._broker):
                name = subscriber.queue.name
                try:
                    declared = await channel.declare_queue(name, passive=True, robust=False, timeout=CHANNEL_WAIT)
                except Exception:
                    break  # the probe channel is closed now; what is known so far is returned
                counts[name] = declared.declaration_result.consumer_count or 0
        finally:
            with contextlib.suppress(Exception):
                await channel.close()
        return counts
