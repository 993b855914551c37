"""One provider call for a claimed notification. Any doubt whether the provider took it becomes a lookup."""

from __future__ import annotations

import logging

from notify.delivery.providers import (
    AmbiguousProviderError,
    OutboundMessage,
    PermanentProviderError,
    Provider,
    RetryableProviderError,
)
from notify.domain.notifications import Attempt, Notification, NotificationStatus
from notify.domain.templates import TemplateCatalogue

log = logging.getLogger(__name__)


async def attempt(notification: Notification, provider: Provider, catalogue: TemplateCatalogue) -> Attempt:
    """Look up an ambiguous last attempt, then send (never a blind resend); what it came to, never an exception."""
    try:
        if notification.needs_lookup and (found := await provider.find_by_reference(notification.reference)):
            return Attempt(notification, provider_id=found.provider_id, counted=False)
        if notification.cancel_reason is not None:
            return Attempt(notification, cancel_reason=notification.cancel_reason, counted=False)
        message = OutboundMessage.from_template(
            reference=notification.reference,
            template=catalogue.by_id(notification.template_id),
            to=notification.to,
            personalisation=notification.personalisation,
            reply_to_id=notification.reply_to_id,
        )
    except PermanentProviderError as exc:
        return Attempt(notification, failure=NotificationStatus.PERMANENT_FAILURE, error=str(exc), counted=False)
    except RetryableProviderError as exc:  # the lookup failed: neither resend nor give up
        return Attempt(
            notification, retry=True, lookup=True, error=str(exc), retry_after=exc.retry_after, counted=False
        )
    except LookupError as exc:  # unknown template or missing personalisation: resending cannot help
        return Attempt(
            notification, failure=NotificationStatus.TECHNICAL_FAILURE, error=type(exc).__name__, counted=False
        )
    return await _send(notification, message, provider)


async def _send(notification: Notification, message: OutboundMessage, provider: Provider) -> Attempt:
    try:
        receipt = await provider.send(message)
    except PermanentProviderError as exc:  # refused, so not counted
        return Attempt(notification, failure=NotificationStatus.PERMANENT_FAILURE, error=str(exc), counted=False)
    except AmbiguousProviderError as exc:
        return Attempt(
            notification, retry=True, lookup=True, in_flight=True, error=str(exc), retry_after=exc.retry_after
        )
    except RetryableProviderError as exc:  # refused (429, or not taken at all), so not counted
        return Attempt(notification, retry=True, error=str(exc), retry_after=exc.retry_after, counted=False)
    except Exception as exc:  # an unknown failure mid-call is as ambiguous as a timeout
        log.exception("provider call failed unexpectedly", extra={"notification_id": notification.id})
        return Attempt(notification, retry=True, lookup=True, in_flight=True, error=type(exc).__name__)
    return Attempt(notification, provider_id=receipt.provider_id)
