"""The aiohttp transport under the GOV.UK Notify client: same answers and same error classes as httpx's own."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from notify.http_transport import AiohttpTransport
from notify.providers import (
    AmbiguousProviderError,
    GovUkNotifyProvider,
    OutboundMessage,
    PermanentProviderError,
    RetryableProviderError,
)
from notify.stub_server import Fault, FaultKind, NotifyStub, make_api_key
from notify.templates import Channel, MessageKind

pytestmark = pytest.mark.unit

API_KEY = make_api_key("transport")


def message(channel: Channel = Channel.EMAIL) -> OutboundMessage:
    return OutboundMessage(
        reference=str(uuid.uuid4()),
        kind=MessageKind.CLINIC_INITIAL_INVITATION,
        channel=channel,
        to="parent@example.com" if channel is Channel.EMAIL else "07700 900123",
        template_id="626080e2-a56c-48e4-b612-4da628a23c5b",
        personalisation={"child_first_name": "Ada"},
        body="Hello",
    )


@pytest.fixture
async def stub() -> AsyncIterator[NotifyStub]:
    async with NotifyStub(API_KEY) as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=AiohttpTransport(max_connections=10)) as shared:
        yield shared


def provider(url: str, client: httpx.AsyncClient, timeout: float = 2.0) -> GovUkNotifyProvider:
    return GovUkNotifyProvider(API_KEY, url, client=client, timeout=timeout)


async def test_send_and_find_by_reference(stub: NotifyStub, client: httpx.AsyncClient) -> None:
    notify = provider(stub.url, client)
    sent = message(Channel.SMS)
    receipt = await notify.send(sent)
    assert [s.id for s in stub.sent] == [receipt.provider_id]
    assert await notify.find_by_reference(sent.reference) == receipt
    assert await notify.find_by_reference("unknown") is None


async def test_rejections_and_429_keep_their_classes(stub: NotifyStub, client: httpx.AsyncClient) -> None:
    stub.faults.push(Fault(FaultKind.ERROR_400), Fault(FaultKind.ERROR_429, retry_after=7), Fault(FaultKind.ERROR_500))
    notify = provider(stub.url, client)
    with pytest.raises(PermanentProviderError):
        await notify.send(message())
    with pytest.raises(RetryableProviderError) as limited:
        await notify.send(message())
    assert not isinstance(limited.value, AmbiguousProviderError) and limited.value.retry_after == 7
    with pytest.raises(AmbiguousProviderError):
        await notify.send(message())


@pytest.mark.parametrize("fault", [Fault(FaultKind.ACCEPT_THEN_DROP), Fault(FaultKind.TIMEOUT, seconds=1.0)])
async def test_dropped_or_timed_out_answers_are_ambiguous(
    stub: NotifyStub, client: httpx.AsyncClient, fault: Fault
) -> None:
    stub.faults.push(fault)
    with pytest.raises(AmbiguousProviderError):
        await provider(stub.url, client, timeout=0.3).send(message())


async def test_nobody_listening_is_retryable_not_ambiguous(client: httpx.AsyncClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RetryableProviderError) as refused:
        await provider(f"http://127.0.0.1:{port}", client).send(message())
    assert not isinstance(refused.value, AmbiguousProviderError)
