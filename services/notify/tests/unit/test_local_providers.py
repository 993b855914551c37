"""The log provider (no personal data in logs) and the SMTP provider (to a fake SMTP server)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from email import message_from_bytes

import pytest
import pytest_asyncio

from notify.delivery.local_providers import LogProvider, SmtpProvider
from notify.delivery.providers import AmbiguousProviderError, RetryableProviderError
from notify.domain.templates import Channel

from ..notify_support import outbound_message

pytestmark = pytest.mark.unit


async def test_log_provider_logs_no_personal_data(caplog: pytest.LogCaptureFixture) -> None:
    provider = LogProvider()
    with caplog.at_level(logging.INFO):
        await provider.send(outbound_message(reference="ref-1"))
    [record] = caplog.records
    logged = record.getMessage() + repr(record.__dict__)
    assert "ref-1" in logged
    for personal in ("parent@example.com", "Ada", "Lovelace"):
        assert personal not in logged


async def test_log_provider_finds_what_it_accepted() -> None:
    provider = LogProvider(remember=2)
    receipts = [await provider.send(outbound_message(reference=r)) for r in ("a", "b", "c")]
    assert await provider.find_by_reference("c") == receipts[2]
    assert await provider.find_by_reference("a") is None  # forgotten: only the newest 2 are kept
    assert await provider.find_by_reference("zzz") is None


def test_outbound_message_refuses_overlong_reference() -> None:
    with pytest.raises(ValueError, match="reference"):
        outbound_message(reference="x" * 1001)


def test_smtp_sends_sms_as_email_to_digits_at_sms_local() -> None:
    email = SmtpProvider("localhost", 1025, "noreply@clinics.local").build_email(
        outbound_message(Channel.SMS, reference="ref-1")
    )
    assert email["To"] == "447700900123@sms.local"
    assert email["Message-ID"] == "<ref-1@notify.local>"
    assert "Ada Lovelace" in email.get_content()


def test_smtp_message_id_is_safe_for_any_reference() -> None:
    message_id = SmtpProvider("localhost", 1025, "a@b.c").message_id("ref with spaces\r\n<>")
    assert message_id.startswith("<") and message_id.endswith("@notify.local>")
    assert " " not in message_id and "\n" not in message_id


class FakeSmtpServer:
    """Just enough SMTP for aiosmtplib: answers 250 to everything and keeps each DATA payload."""

    def __init__(self, data_reply: bytes = b"250 OK") -> None:
        self.messages: list[bytes] = []
        self._data_reply = data_reply
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> FakeSmtpServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 fake\r\n")
        while line := await reader.readline():
            command = line.strip().upper()
            if command == b"DATA":
                writer.write(b"354 go on\r\n")
                self.messages.append(await reader.readuntil(b"\r\n.\r\n"))
                writer.write(self._data_reply + b"\r\n")
            elif command == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 ok\r\n")
        writer.close()


@pytest_asyncio.fixture
async def smtp() -> AsyncIterator[FakeSmtpServer]:
    async with FakeSmtpServer() as server:
        yield server


async def test_smtp_delivers_subject_body_and_reference(smtp: FakeSmtpServer) -> None:
    receipt = await SmtpProvider("127.0.0.1", smtp.port, "noreply@clinics.local").send(
        outbound_message(reference="ref-1")
    )
    [raw] = smtp.messages
    email = message_from_bytes(raw)
    assert email["Subject"] == "Book for Ada Lovelace"
    assert email["X-Notification-Reference"] == "ref-1"
    assert receipt.provider_id == "<ref-1@notify.local>"
    assert await SmtpProvider("127.0.0.1", smtp.port, "a@b.c").find_by_reference("ref-1") is None


async def test_smtp_4xx_on_data_is_retryable() -> None:
    async with FakeSmtpServer(data_reply=b"451 try later") as server:
        with pytest.raises(RetryableProviderError) as raised:
            await SmtpProvider("127.0.0.1", server.port, "a@b.c").send(outbound_message(reference="ref-1"))
    assert raised.value.status == 451
    assert not isinstance(raised.value, AmbiguousProviderError)


async def test_smtp_unreachable_is_retryable_not_ambiguous() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RetryableProviderError) as raised:
        await SmtpProvider("127.0.0.1", port, "a@b.c", timeout=2).send(outbound_message(reference="ref-1"))
    assert not isinstance(raised.value, AmbiguousProviderError)
