"""Delivery-receipt callbacks from the GOV.UK Notify stub, shaped and retried like Notify's."""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

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


# Receipts in flight at once: Notify posts them from a pool of workers, so a burst of sends comes back as a
# burst of receipts, as fast as the receiving service answers.
MAX_CONCURRENT_CALLBACKS = 64

# POST `body` with `headers` to `url`; the HTTP status, or an OSError/TimeoutError when no answer came.
Post = Callable[[str, dict[str, Any], dict[str, str]], Awaitable[int]]


class CallbackSender:
    """POSTs ``{id, reference, to, status, ...}`` with a bearer token `delay` s after acceptance.

    Network errors, 5xx and 429 are retried (`retries` times, `retry_delay` apart; Notify uses
    5 min); other answers end it. With `duplicate_rate` > 0 some callbacks are sent twice, since
    Notify's consumers must expect duplicates. `post` replaces the HTTP client (a test posting into an
    app in-process); the default is an aiohttp pool of `concurrency` connections.
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
        concurrency: int = MAX_CONCURRENT_CALLBACKS,
        post: Post | None = None,
    ) -> None:
        self._url = url
        self._headers = {"Authorization": f"Bearer {token}"}
        self._delay = delay
        self._retries = retries
        self._retry_delay = retry_delay
        self._duplicate_rate = duplicate_rate
        self._rng = random.Random(seed)
        self._concurrency = concurrency
        self._post_with = post
        self._session: aiohttp.ClientSession | None = None
        # Only `concurrency` receipts wait on the pool at once: thousands of them queued on an HTTP client
        # (the receiver down, every one retrying) once starved the stub's event loop.
        self._gate = asyncio.Semaphore(concurrency)
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
        if self._session is not None:
            await self._session.close()

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
            await self._send(body)

    async def _send(self, body: dict[str, Any]) -> None:
        for attempt in range(self._retries + 1):
            if attempt:
                await asyncio.sleep(self._retry_delay)
            try:
                async with self._gate:
                    status = await self._post(self._url, body, self._headers)
            except (OSError, TimeoutError, aiohttp.ClientError):
                continue
            if status < 500 and status != 429:
                self.answered += 1
                return
        self.abandoned += 1
        logger.warning("callback for notification %s given up", body["id"])

    async def _post(self, url: str, body: dict[str, Any], headers: dict[str, str]) -> int:
        if self._post_with is not None:
            return await self._post_with(url, body, headers)
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._concurrency)
            self._session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=5.0))
        async with self._session.post(url, json=body, headers=headers) as response:
            await response.read()
            return response.status
