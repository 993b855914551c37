"""Failure policy for every consumer: dead-letter bad messages with a reason, retry the rest.

- A message that cannot be valid (bad JSON, wrong shape, `PermanentError`) goes to the queue's
  dead-letter queue at once with `x-death-reason`; a request gets an error reply instead.
- A delivery `msgkit.senders` refuses (a sender the queue does not accept, a reply_to that is not a reply
  queue, a body of another message type) is dead-lettered with that reason even if it is a request: it is
  never handled and never answered.
- Anything else is retried (nack + requeue) with growing back-off, and dead-lettered with its last
  error once the delivery count nears the queue's `x-delivery-limit`. Counting ourselves keeps this
  right on RabbitMQ 4.3+, where a nack no longer counts towards the broker's limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from aio_pika import IncomingMessage
from faststream import BaseMiddleware
from faststream.rabbit import RabbitBroker
from pydantic import ValidationError

from contracts import topology
from contracts.envelope import Reply
from msgkit import metrics
from msgkit.senders import (
    DIRECT_REPLY_TO,
    ORIGINAL_SENDER_HEADER,
    REPLY_TO_NOT_ALLOWED,
    DeliveryCheck,
    Refused,
    is_reply_queue,
)

log = logging.getLogger(__name__)

REASON_HEADER = "x-death-reason"


class PermanentError(Exception):
    """Raised by a use case for input that can never succeed (unknown id, invalid request)."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


_PERMANENT = (ValidationError, json.JSONDecodeError, UnicodeDecodeError, PermanentError, TypeError, ValueError)
# PostgreSQL refusals that the same input meets every time: a data exception (class 22: a value too
# long, out of range, badly formed) and a NOT NULL or CHECK violation. A unique violation is not here:
# it can be a race that a retry resolves.
_PERMANENT_SQLSTATES = ("22", "23502", "23514")


def is_permanent(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(5):  # the error itself, and what SQLAlchemy and asyncpg wrapped inside it
        if seen is None:
            return False
        if isinstance(seen, _PERMANENT) or str(getattr(seen, "sqlstate", "") or "").startswith(_PERMANENT_SQLSTATES):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def describe(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:10])
        return _printable(f"invalid message: {problems}")[:2000]
    if (driver_error := getattr(exc, "orig", None)) is not None:
        # SQLAlchemy's text quotes the statement; the driver's own message is the reason.
        first_line = str(driver_error).split("\n", 1)[0]
        return _printable(f"database refused it: {first_line}")[:2000]
    return _printable(f"{type(exc).__name__}: {exc}")[:2000]


def _printable(text: str) -> str:
    # A reason is shown to operators (headers, `clinics dead-letters show`): no control characters from input.
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def retry_delay(delivery_count: int) -> float:
    return float(min(0.2 * 2**delivery_count, 10.0))


class DeadLetterPolicy:
    """Builds the per-message middleware; holds the broker it republishes dead letters with."""

    def __init__(self, service: str, broker: RabbitBroker | None = None, *, operators: Iterable[str] = ()) -> None:
        self.service = service
        self._broker = broker
        self.deliveries = DeliveryCheck(operators)
        self.stopping = asyncio.Event()

    @property
    def broker(self) -> RabbitBroker:
        if self._broker is None:
            raise RuntimeError("the dead-letter policy has no broker")
        return self._broker

    @broker.setter
    def broker(self, broker: RabbitBroker) -> None:
        self._broker = broker

    def stop_backing_off(self) -> None:
        """On shutdown: nack at once, so a retried message waits for the next consumer, not for us."""
        self.stopping.set()

    async def back_off(self, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=delay)

    def __call__(self, msg: Any, /, *, context: Any) -> BaseMiddleware:
        return _DeadLetterMiddleware(msg, context=context, policy=self)


class _DeadLetterMiddleware(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: Any, policy: DeadLetterPolicy) -> None:
        super().__init__(msg, context=context)
        self.policy = policy

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool | None:
        raw: IncomingMessage = self.msg  # type: ignore[assignment]
        queue = self._queue_name()
        if exc_val is None or not isinstance(exc_val, Exception):
            metrics.MESSAGES_HANDLED.labels(self.policy.service, queue, "ok").inc()
            return False
        if raw.reply_to and not is_reply_queue(raw.reply_to):
            # Also when the delivery failed before the check ran (FastStream's parser): never answer into a queue.
            exc_val = Refused(REPLY_TO_NOT_ALLOWED)
        if isinstance(exc_val, Refused):
            await self._dead_letter(raw, queue, str(exc_val))
            metrics.MESSAGES_HANDLED.labels(self.policy.service, queue, "refused").inc()
            return True
        if raw.reply_to:
            await self._reply_error(raw, exc_val)
            metrics.MESSAGES_HANDLED.labels(self.policy.service, queue, "error_reply").inc()
            return True
        delivery_count = int(str((raw.headers or {}).get("x-delivery-count", 0) or 0))
        if is_permanent(exc_val) or delivery_count >= topology.DELIVERY_LIMIT - 2:
            await self._dead_letter(raw, queue, describe(exc_val))
            return True
        metrics.MESSAGES_HANDLED.labels(self.policy.service, queue, "retry").inc()
        log.warning(
            "handler failed; message will be retried",
            exc_info=exc_val,
            extra={"queue": queue, "message_id": raw.message_id, "delivery_count": delivery_count},
        )
        # Hold the delivery briefly before the nack so an outage is not a hot redelivery loop.
        await self.policy.back_off(retry_delay(delivery_count))
        return False

    async def consume_scope(self, call_next: Callable[[Any], Awaitable[Any]], msg: Any) -> Any:
        # Before the body is decoded: a refused delivery costs no parsing, and is never handled.
        raw: IncomingMessage = self.msg  # type: ignore[assignment]
        headers = raw.headers or {}
        self.policy.deliveries.check(self._queue_name(), user_id=raw.user_id, reply_to=raw.reply_to, headers=headers)
        return await call_next(msg)

    async def publish_scope(self, call_next: Callable[[Any], Awaitable[Any]], cmd: Any) -> Any:
        # RabbitMQ 3.x answers a mandatory publish to direct reply-to with basic.return although it
        # delivers it; with on_return_raises that would turn every successful reply into an error.
        if str(getattr(cmd, "destination", "")).startswith(DIRECT_REPLY_TO):
            cmd.publish_options["mandatory"] = False
        return await call_next(cmd)

    def _queue_name(self) -> str:
        handler = self.context.get_local("handler_")
        queue = getattr(handler, "queue", None)
        return str(getattr(queue, "name", "unknown"))

    async def _dead_letter(self, raw: IncomingMessage, queue: str, reason: str) -> None:
        headers = dict(raw.headers or {})
        headers.update(
            {
                REASON_HEADER: reason,
                "x-original-exchange": raw.exchange or "",
                "x-original-routing-key": raw.routing_key or "",
                "x-dead-lettered-at": datetime.now(UTC).isoformat(),
            }
        )
        # Who sent it, validated by the broker; an operator's replay already says whose it was.
        if raw.user_id not in self.policy.deliveries.operators or ORIGINAL_SENDER_HEADER not in headers:
            headers[ORIGINAL_SENDER_HEADER] = raw.user_id or ""
        await self.policy.broker.publish(
            raw.body,
            exchange=topology.dead_letter_exchange(self.policy.service),
            routing_key=queue,
            headers=headers,
            message_id=raw.message_id,
            correlation_id=raw.correlation_id,
            content_type=raw.content_type,
            persist=True,
            mandatory=True,
        )
        metrics.DEAD_LETTERED.labels(self.policy.service, queue).inc()
        log.error("message dead-lettered", extra={"queue": queue, "message_id": raw.message_id, "reason": reason})

    async def _reply_error(self, raw: IncomingMessage, exc: Exception) -> None:
        if isinstance(exc, PermanentError):
            reply = Reply.failure(exc.code, str(exc))
        elif is_permanent(exc):
            reply = Reply.failure("invalid_request", describe(exc))
        else:
            log.error("request failed", exc_info=exc, extra={"message_id": raw.message_id})
            reply = Reply.failure("internal_error", "the service could not answer; try again")
        await self.policy.broker.publish(
            reply.model_dump_json().encode(),
            routing_key=raw.reply_to or "",
            correlation_id=raw.correlation_id,
            content_type="application/json",
            mandatory=False,
        )
