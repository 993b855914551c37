"""Providers for development and tests: a log-only provider and SMTP to a local mail catcher."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections import OrderedDict
from email.message import EmailMessage

import aiosmtplib

from notify.delivery.providers import (
    AmbiguousProviderError,
    OutboundMessage,
    PermanentProviderError,
    ProviderReceipt,
    RetryableProviderError,
)
from notify.domain.templates import Channel

logger = logging.getLogger(__name__)


class LogProvider:
    """Accepts everything and logs kind, channel, reference and template id -- never the recipient,
    personalisation or body, which are personal data.

    It remembers the references it accepted (the newest `remember` of them) so that
    find_by_reference behaves like a real provider within one process.
    """

    def __init__(self, *, remember: int = 10_000, log: logging.Logger | None = None) -> None:
        self._remember = remember
        self._accepted: OrderedDict[str, str] = OrderedDict()
        self._log = log or logger

    async def send(self, message: OutboundMessage) -> ProviderReceipt:
        provider_id = str(uuid.uuid4())
        self._accepted[message.reference] = provider_id
        self._accepted.move_to_end(message.reference)
        while len(self._accepted) > self._remember:
            self._accepted.popitem(last=False)
        self._log.info(
            "log provider accepted %s %s",
            message.kind,
            message.channel,
            extra={
                "reference": message.reference,
                "template_id": message.template_id,
                "provider_id": provider_id,
                "body_chars": len(message.body),
            },
        )
        return ProviderReceipt(provider_id, message.reference)

    async def find_by_reference(self, reference: str) -> ProviderReceipt | None:
        provider_id = self._accepted.get(reference)
        return None if provider_id is None else ProviderReceipt(provider_id, reference)


_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,200}")


class SmtpProvider:
    """Sends over plain SMTP, meant for a local catcher such as Mailpit.

    SMTP has no SMS, so a text message is sent as an email to ``<digits>@sms.local`` (the number
    with everything but digits removed) with the SMS text as its body: it shows up in the catcher
    next to the emails. The Message-ID is derived from the reference, and the reference is also in
    an ``X-Notification-Reference`` header. SMTP cannot be asked what it has accepted, so
    find_by_reference always returns None: an ambiguous failure is resent, which may duplicate a
    message in the catcher -- acceptable for development, and why production uses GOV.UK Notify.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        timeout: float = 10.0,
        sms_domain: str = "sms.local",
        message_id_domain: str = "notify.local",
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._timeout = timeout
        self._sms_domain = sms_domain
        self._message_id_domain = message_id_domain

    def message_id(self, reference: str) -> str:
        local = reference if _SAFE_ID.fullmatch(reference) else hashlib.sha256(reference.encode()).hexdigest()
        return f"<{local}@{self._message_id_domain}>"

    def build_email(self, message: OutboundMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self._sender
        if message.channel is Channel.SMS:
            email["To"] = f"{re.sub(r'[^0-9]', '', message.to)}@{self._sms_domain}"
            email["Subject"] = f"Text message: {message.kind}"
        else:
            email["To"] = message.to
            email["Subject"] = message.subject or str(message.kind)
        email["Message-ID"] = self.message_id(message.reference)
        email["X-Notification-Reference"] = re.sub(r"[\r\n]+", " ", message.reference)
        email["X-Template-Id"] = message.template_id
        email.set_content(message.body)
        return email

    async def send(self, message: OutboundMessage) -> ProviderReceipt:
        email = self.build_email(message)
        try:
            await aiosmtplib.send(email, hostname=self._host, port=self._port, timeout=self._timeout, start_tls=False)
        except aiosmtplib.SMTPConnectError as exc:  # nothing was sent
            raise RetryableProviderError(None, error_code=type(exc).__name__) from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients] or [550]
            raise PermanentProviderError(codes[0], "RecipientsRefused") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 400 <= exc.code < 500:
                raise RetryableProviderError(exc.code, error_code=type(exc).__name__) from exc
            raise PermanentProviderError(exc.code, type(exc).__name__) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:  # cut off mid-conversation
            raise AmbiguousProviderError(None, error_code=type(exc).__name__) from exc
        return ProviderReceipt(self.message_id(message.reference), message.reference)

    async def find_by_reference(self, reference: str) -> ProviderReceipt | None:
        return None
