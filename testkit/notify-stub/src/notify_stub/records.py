"""What the GOV.UK Notify stub records and answers: accepted notifications and error bodies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from notify_stub.http import Response


def make_api_key(name: str = "stub", service_id: str | None = None, secret: str | None = None) -> str:
    """A well-formed Notify API key: ``{name}-{service_id}-{secret}``."""
    return f"{name}-{service_id or uuid.uuid4()}-{secret or uuid.uuid4()}"


def error(status: int, error: str, *messages: str) -> Response:
    errors = [{"error": error, "message": m} for m in messages or ("",)]
    return Response.json(status, {"status_code": status, "errors": errors})


def rate_limited(per_minute: int) -> Response:
    message = f"Exceeded rate limit for key type LIVE of {per_minute} requests per 60 seconds"
    return error(429, "RateLimitError", message)


@dataclass(slots=True)
class SentNotification:
    """A notification the stub accepted (and recorded)."""

    id: str
    reference: str | None
    channel: str
    to: str
    template_id: str
    personalisation: dict[str, Any]
    received_at: datetime
    status: str = "created"
    # Email personalisation keys Notify treats as plain text (no links, no markdown): client 12.1+.
    sanitise_content_for: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "channel": self.channel,
            "to": self.to,
            "template_id": self.template_id,
            "personalisation": self.personalisation,
            "received_at": self.received_at.isoformat(),
            "status": self.status,
            "sanitise_content_for": self.sanitise_content_for,
        }

    def to_notify_json(self, base_url: str) -> dict[str, Any]:
        email = self.channel == "email"
        return {
            "id": self.id,
            "reference": self.reference,
            "email_address": self.to if email else None,
            "phone_number": None if email else self.to,
            "type": self.channel,
            "status": self.status,
            "template": {"id": self.template_id, "version": 1, "uri": f"{base_url}/v2/template/{self.template_id}"},
            "body": "",
            "subject": "" if email else None,
            "created_at": self.received_at.isoformat(),
            "created_by_name": None,
            "sent_at": None,
            "completed_at": None,
        }

    def to_created_json(self, base_url: str) -> dict[str, Any]:
        """The 201 body of POST /v2/notifications/email|sms."""
        content: dict[str, Any] = (
            {"body": "", "subject": "", "from_email": "stub@notify.local", "one_click_unsubscribe_url": None}
            if self.channel == "email"
            else {"body": "", "from_number": "GOVUK"}
        )
        return {
            "id": self.id,
            "reference": self.reference,
            "content": content,
            "uri": f"{base_url}/v2/notifications/{self.id}",
            "template": {"id": self.template_id, "version": 1, "uri": f"{base_url}/v2/template/{self.template_id}"},
            "scheduled_for": None,
        }
