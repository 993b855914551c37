"""Delivery-receipt callbacks from the GOV.UK Notify stub, shaped and retried like Notify's."""

from __future__ import annotations

import asyncio
import logging
import random
import re
from datetime import UTC, datetime
from typing import Any

import httpx

from notify_stub.records import SentNotification

logger = logging.getLogger(__name__)

# Notify's simulated recipients (test keys): these give failures, everything else is delivered.
_SIMULATED = {
    "perm-fail@simulator.notify": "permanent-failure",
    "07700900002": "permanent-failure",
    "temp-fail@simulator.notify": "temporary-failure",
    "07700900003": "temporary-failure",
}


def final_status(to: str) -> str:
    key = to.strip().lower()
    if "@" not in key:
        digits = re.sub(r"[^0-9]", "", key)
        key = "0" + digits[2:] if digits.startswith("44") else digits
    return _SIMULATED.get(key, "delivered")


MAX_CONCURRENT_CALLBACKS = 16


class CallbackSender:
    """POSTs ``{id, reference, to, status, ...}`` with a bearer token `delay` s after acceptance.

    Network errors, 5xx and 429 are retried (`retries` times, `retry_delay` apart; Notify uses
    5 min); other answers end it. With `duplicate_rate` > 0 some callbacks are sent twice, since
    Notify's consumers must expect duplicates.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        delay: float = 0.2,
        retries: int = 3,
        retry_delay: float = 1.0,
        duplicate_rate: float = 0.0,
        seed: int | None = None,
    ) -> None:
        self._url = url
        self._headers = {"Authorization": f"Bearer {token}"}
        self._delay = delay
        self._retries = retries
        self._retry_delay = retry_delay
        self._duplicate_rate = duplicate_rate
        self._rng = random.Random(seed)
        self._client = httpx.AsyncClient(timeout=5.0)
        # httpx's pool does work per waiting request on every checkout: thousands of callbacks queued on
        # it (notify down, every one retrying) starved the stub's event loop until its own API timed out.
        self._gate = asyncio.Semaphore(MAX_CONCURRENT_CALLBACKS)
        self._tasks: set[asyncio.Task[None]] = set()
        self.answered = 0
        self.abandoned = 0

    def schedule(self, sent: SentNotification) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(sent))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._client.aclose()

    def _body(self, sent: SentNotification, status: str) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat()
        return {
            "id": sent.id,
            "reference": sent.reference,
            "to": sent.to,
            "status": status,
            "created_at": sent.received_at.isoformat(),
            "completed_at": now,
            "sent_at": now,
            "notification_type": sent.channel,
            "template_id": sent.template_id,
            "template_version": 1,
        }

    async def _deliver(self, sent: SentNotification) -> None:
        await asyncio.sleep(self._delay)
        sent.status = final_status(sent.to)
        body = self._body(sent, sent.status)
        copies = 2 if self._duplicate_rate and self._rng.random() < self._duplicate_rate else 1
        for _ in range(copies):
            await self._post(body)

    async def _post(self, body: dict[str, Any]) -> None:
        for attempt in range(self._retries + 1):
            if attempt:
                await asyncio.sleep(self._retry_delay)
            try:
                async with self._gate:
                    response = await self._client.post(self._url, json=body, headers=self._headers)
            except httpx.TransportError:
                continue
            if response.status_code < 500 and response.status_code != 429:
                self.answered += 1
                return
        self.abandoned += 1
        logger.warning("callback for notification %s given up", body["id"])
