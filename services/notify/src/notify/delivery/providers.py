"""Outbound email/SMS gateways behind one Protocol: the message handed to a provider, its receipt and its errors.

Errors, and what the caller must do:

* ``PermanentProviderError`` (400, 401, 403, other 4xx): the request was rejected. Do not retry.
* ``RetryableProviderError`` (429, a connection that was never made): the provider did not take
  the message. Retry with backoff and jitter; ``retry_after`` is a floor when present.
* ``AmbiguousProviderError``, a ``RetryableProviderError`` (timeouts after connecting, connections
  dropped before the answer, 5xx, a 201 whose body is unreadable): the provider may have
  accepted the message. Call ``find_by_reference`` before resending; resend only if it returns
  None. GOV.UK Notify does not deduplicate by reference and keeps notifications for 7 days.

The providers: GOV.UK Notify's HTTP API (``govuk_notify``), and for development the log and SMTP
(``local_providers``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from notify.domain.templates import Channel, MessageKind, Template, render, render_subject

MAX_REFERENCE_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message to one recipient, as handed to a provider. `reference` is unique per attempt."""

    reference: str
    kind: MessageKind
    channel: Channel
    to: str
    template_id: str
    personalisation: Mapping[str, str]
    body: str
    subject: str | None = None
    reply_to_id: str | None = None  # GOV.UK Notify email_reply_to_id; ignored for SMS

    def __post_init__(self) -> None:
        if not self.reference or len(self.reference) > MAX_REFERENCE_LENGTH:
            raise ValueError(f"reference must be 1..{MAX_REFERENCE_LENGTH} characters")

    @classmethod
    def from_template(
        cls,
        *,
        reference: str,
        template: Template,
        to: str,
        personalisation: Mapping[str, str],
        reply_to_id: str | None = None,
    ) -> OutboundMessage:
        """Build a message, rendering the body and subject (raises MissingPersonalisation)."""
        return cls(
            reference=reference,
            kind=template.kind,
            channel=template.channel,
            to=to,
            template_id=template.id,
            personalisation=dict(personalisation),
            body=render(template, personalisation),
            subject=render_subject(template, personalisation),
            reply_to_id=reply_to_id,
        )


@dataclass(frozen=True, slots=True)
class ProviderReceipt:
    """The provider's id for an accepted message, and the reference it was sent with."""

    provider_id: str
    reference: str


class ProviderError(Exception):
    """Base class. Messages never carry recipients or personalisation."""

    def __init__(self, status: int | None, error_code: str | None) -> None:
        super().__init__(f"provider error status={status} error={error_code}")
        self.status = status
        self.error_code = error_code


class PermanentProviderError(ProviderError):
    """Rejected (400 ValidationError/BadRequestError, 401/403 AuthError): never resend as is."""

    def __init__(self, status: int, error_code: str) -> None:
        super().__init__(status, error_code)


class RetryableProviderError(ProviderError):
    """Not accepted this time (429, could not connect): retry later with backoff."""

    def __init__(self, status: int | None, retry_after: float | None = None, error_code: str | None = None) -> None:
        super().__init__(status, error_code)
        self.retry_after = retry_after


class AmbiguousProviderError(RetryableProviderError):
    """Maybe accepted (timeout, dropped connection, 5xx): find_by_reference before resending."""


class Provider(Protocol):
    """An outbound gateway. `send` raises one of the ProviderError subclasses on failure."""

    async def send(self, message: OutboundMessage) -> ProviderReceipt: ...

    async def find_by_reference(self, reference: str) -> ProviderReceipt | None:
        """The provider's record of a message sent with `reference`, or None if it has none."""
        ...
