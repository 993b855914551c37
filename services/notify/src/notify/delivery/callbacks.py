"""`POST /notifications/status`: GOV.UK Notify's delivery receipts, authenticated by a bearer token."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from notify.delivery import metrics
from notify.delivery.receipts import DeliveryResult, Receipt
from notify.domain.notifications import NotificationStatus

log = logging.getLogger(__name__)

PATH = "/notifications/status"
MAX_BODY = 64 * 1024
# Statuses on the way to a final one; Notify may report them, and they change nothing here.
_INTERIM = frozenset({"created", "sending", "pending", "sent"})
_FINAL = frozenset({"delivered", "permanent-failure", "temporary-failure", "technical-failure"})


class DeliveryCallback(BaseModel):
    """The body GOV.UK Notify posts (template_id and template_version are ignored)."""

    id: str
    reference: str | None = None
    to: str | None = None
    status: str
    created_at: str | None = None
    completed_at: str | None = None
    sent_at: str | None = None
    notification_type: str | None = None


async def _respond(send: Any, status: int, body: dict[str, Any] | None = None) -> None:
    payload = json.dumps(body).encode() if body is not None else b""
    headers = [(b"content-length", str(len(payload)).encode())]
    if body is not None:
        headers.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _read_body(receive: Any) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def authorised(headers: list[tuple[bytes, bytes]], token: str) -> bool:
    if not token:
        return False  # no token configured: nobody may post receipts
    given = next((v for k, v in headers if k.lower() == b"authorization"), b"")
    return hmac.compare_digest(given, b"Bearer " + token.encode())


def delivery_status_endpoint(record: Callable[[Receipt], Awaitable[DeliveryResult]], *, token: str) -> Any:
    """The ASGI app of the route: 204 applied or unchanged, 401 bad token, 404 unknown notification.

    `record` applies one receipt and returns once it is committed (notify's app batches them), so a
    2xx always means the status is stored.
    """

    async def endpoint(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("method") != "POST":
            await _respond(send, 405, {"error": "method not allowed"})
            return
        if not authorised(scope.get("headers", []), token):
            await _respond(send, 401, {"error": "unauthorised"})
            return
        body = await _read_body(receive)
        try:
            callback = DeliveryCallback.model_validate_json(body or b"")
        except ValidationError:
            await _respond(send, 400, {"error": "invalid callback body"})
            return
        if callback.status in _INTERIM:
            await _respond(send, 204)
            return
        if callback.status not in _FINAL:
            await _respond(send, 400, {"error": f"unknown status {callback.status}"})
            return
        receipt = Receipt(callback.id, callback.reference, NotificationStatus(callback.status))
        result = await record(receipt)
        metrics.DELIVERY_RECEIPTS.labels(str(result)).inc()
        log.debug("delivery receipt %s", result, extra={"provider_id": callback.id, "status": callback.status})
        await _respond(send, 404 if result is DeliveryResult.NOT_FOUND else 204)

    return endpoint
