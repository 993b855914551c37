"""The GOV.UK Notify client on its own connection pool, as the service runs it: answers and error classes."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable

import pytest

from notify.delivery.govuk_notify import GovUkNotifyProvider
from notify.delivery.providers import AmbiguousProviderError, PermanentProviderError, RetryableProviderError
from notify.domain.templates import Channel
from notify_stub import Fault, FaultKind, NotifyStub, make_api_key

from ..notify_support import outbound_message

pytestmark = pytest.mark.unit

API_KEY = make_api_key("transport")
Make = Callable[..., GovUkNotifyProvider]


@pytest.fixture
async def stub() -> AsyncIterator[NotifyStub]:
    async with NotifyStub(API_KEY) as running:
        yield running


@pytest.fixture
async def pool() -> AsyncIterator[list[GovUkNotifyProvider]]:
    made: list[GovUkNotifyProvider] = []
    yield made
    for provider in made:
        await provider.aclose()


@pytest.fixture
def provider(pool: list[GovUkNotifyProvider]) -> Make:
    def make(url: str, timeout: float = 2.0, max_connections: int = 10) -> GovUkNotifyProvider:
        pool.append(GovUkNotifyProvider(API_KEY, url, timeout=timeout, max_connections=max_connections))
        return pool[-1]

    return make


async def test_send_and_find_by_reference(stub: NotifyStub, provider: Make) -> None:
    notify = provider(stub.url)
    sent = outbound_message(Channel.SMS)
    receipt = await notify.send(sent)
    assert [s.id for s in stub.sent] == [receipt.provider_id]
    assert await notify.find_by_reference(sent.reference) == receipt
    assert await notify.find_by_reference("unknown") is None


async def test_rejections_and_429_keep_their_classes(stub: NotifyStub, provider: Make) -> None:
    stub.faults.push(Fault(FaultKind.ERROR_400), Fault(FaultKind.ERROR_429, retry_after=7), Fault(FaultKind.ERROR_500))
    notify = provider(stub.url)
    with pytest.raises(PermanentProviderError):
        await notify.send(outbound_message())
    with pytest.raises(RetryableProviderError) as limited:
        await notify.send(outbound_message())
    assert not isinstance(limited.value, AmbiguousProviderError) and limited.value.retry_after == 7
    with pytest.raises(AmbiguousProviderError):
        await notify.send(outbound_message())


@pytest.mark.parametrize("fault", [Fault(FaultKind.ACCEPT_THEN_DROP), Fault(FaultKind.TIMEOUT, seconds=1.0)])
async def test_dropped_or_timed_out_answers_are_ambiguous(stub: NotifyStub, provider: Make, fault: Fault) -> None:
    stub.faults.push(fault)
    with pytest.raises(AmbiguousProviderError):
        await provider(stub.url, timeout=0.3).send(outbound_message())


async def test_nobody_listening_is_retryable_not_ambiguous(provider: Make) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RetryableProviderError) as refused:
        await provider(f"http://127.0.0.1:{port}").send(outbound_message())
    assert not isinstance(refused.value, AmbiguousProviderError)


async def test_more_sends_than_connections_all_go_once(stub: NotifyStub, provider: Make) -> None:
    notify = provider(stub.url, max_connections=3)
    receipts = await asyncio.gather(*(notify.send(outbound_message()) for _ in range(40)))
    assert sorted(r.provider_id for r in receipts) == sorted(s.id for s in stub.sent)
    assert len(stub.sent) == 40


async def test_a_closed_pool_is_made_again_on_next_use(stub: NotifyStub, provider: Make) -> None:
    notify = provider(stub.url)
    await notify.send(outbound_message())
    await notify.aclose()
    await notify.send(outbound_message())
    assert len(stub.sent) == 2
