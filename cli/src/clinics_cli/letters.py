"""A dead letter as operators see it, whatever its bytes: no body can stop it being listed or replayed.

A dead letter is by definition a message something could not handle: its body may be JSON nested past any
parser's stack, bytes that are not UTF-8, or megabytes long, and its headers may not be what the kit
writes. Every reading here is bounded and total: it returns a description for any message.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, Protocol

# The header msgkit.deadletter writes with why it dead-lettered a message (its import would load the kit).
REASON_HEADER = "x-death-reason"
# Characters of a body a table shows; --json carries it whole.
SHOWN_CHARACTERS = 1000
# A body longer than this is not parsed to find its type: no message of the contract comes near it.
PARSED_BYTES = 1 << 20


class Letter(Protocol):
    """What is read of a dead letter (an aio-pika message has these)."""

    @property
    def message_id(self) -> str | None: ...

    @property
    def type(self) -> str | None: ...

    @property
    def headers(self) -> Mapping[str, Any]: ...

    @property
    def body(self) -> bytes: ...


def describe(letter: Letter, *, with_body: bool) -> dict[str, Any]:
    """What `dead-letters show` prints for one letter (--json as it is; a table through `table_row`)."""
    headers = letter.headers or {}
    row: dict[str, Any] = {
        "message_id": text_of(letter.message_id),
        "type": describe_type(letter),
        "reason": text_of(headers.get(REASON_HEADER)) or broker_reason(headers),
        "dead_lettered_at": text_of(headers.get("x-dead-lettered-at")),
    }
    if with_body:
        row.update(body_fields(letter.body))
    return row


def table_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A described letter as a table row: the body shown short, or said to be binary."""
    shown = {k: v for k, v in row.items() if not k.startswith("body")}
    if "body_bytes" in row:
        shown["body"] = shown_body(row)
    return shown


def describe_type(letter: Letter) -> str:
    """The message type: its AMQP `type` property, else the `type` field of the envelope in its body."""
    return text_of(letter.type) or type_in(letter.body)


def type_in(body: bytes) -> str:
    """The `type` the envelope carries in the body, read only when the body can be read safely."""
    if len(body) > PARSED_BYTES:
        return "(not read: too long)"
    try:
        decoded = json.loads(body)
    except RecursionError:  # valid JSON, perhaps, but nested deeper than the parser's stack
        return "(not read: nested too deeply)"
    except ValueError:
        return "(not JSON)"
    return text_of(decoded.get("type")) if isinstance(decoded, dict) else ""


def broker_reason(headers: Mapping[str, Any]) -> str:
    """The reason RabbitMQ recorded in `x-death` (rejected, expired, delivery_limit), if it is there."""
    deaths = headers.get("x-death")
    first = deaths[0] if isinstance(deaths, list) and deaths else None
    if isinstance(first, Mapping) and first.get("reason"):
        return f"broker: {text_of(first['reason'])}"
    return "unknown"


def text_of(value: Any) -> str:
    """A header or field value as text: bytes decoded (undecodable ones replaced), nothing as ""."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def body_fields(body: bytes) -> dict[str, Any]:
    """The body for --json: its text if it is UTF-8 (else base64), and its size."""
    try:
        return {"body": body.decode("utf-8"), "body_bytes": len(body)}
    except UnicodeDecodeError:
        return {"body": None, "body_bytes": len(body), "body_base64": base64.b64encode(body).decode("ascii")}


def shown_body(fields: Mapping[str, Any]) -> str:
    """The body as a table shows it: its first characters, or what it is when it is not text."""
    text = fields.get("body")
    size = fields.get("body_bytes", 0)
    if text is None:
        return f"undecodable body ({size} bytes, not UTF-8; --json gives it in base64)"
    if len(text) > SHOWN_CHARACTERS:
        return f"{text[:SHOWN_CHARACTERS]}… ({size} bytes in all; --json prints it whole)"
    return str(text)
