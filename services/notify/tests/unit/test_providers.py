"""GovUkNotifyProvider against the in-process GOV.UK Notify stub on loopback, faults included."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import jwt
import pytest
import pytest_asyncio

from notify.delivery.govuk_notify import GovUkNotifyProvider, parse_api_key
from notify.delivery.providers import (
    AmbiguousProviderError,
    OutboundMessage,
    PermanentProviderError,
    RetryableProviderError,
)
from notify.domain.default_templates import default_catalogue
from notify.domain.templates import Channel, MessageKind, personalisation
from notify_stub import Fault, FaultKind, NotifyStub, make_api_key

pytestmark = pytest.mark.unit

API_KEY = make_api_key("test")
SERVICE_ID, SECRET = parse_api_key(API_KEY)
CATALOGUE = default_catalogue()
VALUES = personalisation(
    child_given_name="Ada",
    child_family_name="Lovelace",
    programmes=["flu"],
    team_name="Example SAIS team",
    team_email="sais@example.nhs.uk",
    team_phone="01234 567890",
    booking_link="https://book.example/clinic",
)


def make_message(channel: Channel = Channel.EMAIL, reference: str = "ref-1", **overrides: Any) -> OutboundMessage:
    template = CATALOGUE.resolve(MessageKind.CLINIC_INITIAL_INVITATION, channel, None)
    to = "parent@example.com" if channel is Channel.EMAIL else "07700 900123"
    fields: dict[str, Any] = {"reference": reference, "template": template, "to": to, "personalisation": VALUES}
    fields.update(overrides)
    return OutboundMessage.from_template(**fields)


@pytest_asyncio.fixture
async def stub() -> AsyncIterator[NotifyStub]:
    async with NotifyStub(API_KEY) as running:
        yield running


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as shared:
        yield shared


@pytest.fixture
def provider(stub: NotifyStub, session: aiohttp.ClientSession) -> GovUkNotifyProvider:
    # Generous: on a loaded 2-core machine 20 concurrent sends to the in-process stub can take a while.
    return GovUkNotifyProvider(API_KEY, stub.url, session=session, timeout=5.0)


async def test_email_is_recorded_with_notify_fields(stub: NotifyStub, provider: GovUkNotifyProvider) -> None:
    receipt = await provider.send(make_message(reply_to_id="2c9288b3-19e6-4a63-aae7-b9abdf858a83"))
    [sent] = stub.sent
    assert receipt.provider_id == sent.id
    assert receipt.reference == sent.reference == "ref-1"
    assert (sent.channel, sent.to) == ("email", "parent@example.com")
    assert sent.template_id == CATALOGUE.resolve(MessageKind.CLINIC_INITIAL_INVITATION, Channel.EMAIL, None).id
    assert sent.personalisation == VALUES


async def test_sms_goes_to_the_sms_endpoint(stub: NotifyStub, provider: GovUkNotifyProvider) -> None:
    await provider.send(make_message(Channel.SMS))
    [sent] = stub.sent
    assert (sent.channel, sent.to) == ("sms", "07700 900123")


async def test_requests_carry_notify_json_and_a_fresh_hs256_jwt(stub: NotifyStub) -> None:
    requests: list[tuple[str, dict[str, str], bytes]] = []

    async def on_start(_: object, __: object, params: aiohttp.TraceRequestStartParams) -> None:
        requests.append((params.url.path, dict(params.headers), b""))

    async def on_chunk(_: object, __: object, params: aiohttp.TraceRequestChunkSentParams) -> None:
        path, headers, body = requests[-1]
        requests[-1] = (path, headers, body + params.chunk)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    trace.on_request_chunk_sent.append(on_chunk)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        provider = GovUkNotifyProvider(API_KEY, stub.url, session=session)
        await provider.send(make_message(reply_to_id="2c9288b3-19e6-4a63-aae7-b9abdf858a83"))
    [(path, headers, content)] = requests
    assert path == "/v2/notifications/email"
    assert headers["Content-Type"] == "application/json"
    body = json.loads(content)
    assert set(body) == {
        "email_address",
        "template_id",
        "personalisation",
        "reference",
        "email_reply_to_id",
        "sanitise_content_for",
    }
    # Names people typed stay text in the email (issue 20): Notify is told which personalisation they are.
    assert body["sanitise_content_for"] == ["child_full_name", "child_first_name", "parent_full_name"]
    scheme, token = headers["Authorization"].split(" ")
    assert scheme == "Bearer"
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["iss"] == SERVICE_ID
    assert abs(claims["iat"] - time.time()) < 5


async def test_wrong_secret_is_a_permanent_403(stub: NotifyStub, session: aiohttp.ClientSession) -> None:
    wrong = make_api_key("test", service_id=SERVICE_ID)
    with pytest.raises(PermanentProviderError) as raised:
        await GovUkNotifyProvider(wrong, stub.url, session=session).send(make_message())
    assert (raised.value.status, raised.value.error_code) == (403, "AuthError")
    assert stub.sent == []


async def test_clock_more_than_30_seconds_off_is_a_permanent_403(
    stub: NotifyStub, session: aiohttp.ClientSession
) -> None:
    late = GovUkNotifyProvider(API_KEY, stub.url, session=session, clock=lambda: time.time() - 60)
    with pytest.raises(PermanentProviderError) as raised:
        await late.send(make_message())
    assert raised.value.status == 403


def test_malformed_api_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="malformed") as raised:
        parse_api_key("not-a-key-secret123")
    assert "secret123" not in str(raised.value)


async def test_invalid_recipient_is_a_permanent_400(stub: NotifyStub, provider: GovUkNotifyProvider) -> None:
    with pytest.raises(PermanentProviderError) as raised:
        await provider.send(make_message(to="not-an-email"))
    assert (raised.value.status, raised.value.error_code) == (400, "ValidationError")


async def test_injected_400_is_permanent(stub: NotifyStub, provider: GovUkNotifyProvider) -> None:
    stub.faults.push(Fault(FaultKind.ERROR_400))
    with pytest.raises(PermanentProviderError) as raised:
        await provider.send(make_message())
    assert (raised.value.status, raised.value.error_code) == (400, "BadRequestError")
    assert stub.sent == []


async def test_injected_429_is_retryable_not_ambiguous(stub: NotifyStub, provider: GovUkNotifyProvider) -> None:
    stub.faults.push(Fault(FaultKind.ERROR_429, retry_after=2))
    with pytest.raises(RetryableProviderError) as raised:
        await provider.send(make_message())
    assert not isinstance(raised.value, AmbiguousProviderError)
    assert (raised.value.status, raised.value.retry_after, raised.value.error_code) == (429, 2.0, "RateLimitError")


async def test_stub_rate_limit_answers_429(session: aiohttp.ClientSession) -> None:
    async with NotifyStub(API_KEY, rate_limit_per_minute=2) as limited:
        provider = GovUkNotifyProvider(API_KEY, limited.url, session=session)
        await provider.send(make_message(reference="a"))
        await provider.send(make_message(reference="b"))
        with pytest.raises(RetryableProviderError) as raised:
            await provider.send(make_message(reference="c"))
        assert raised.value.status == 429
        assert [n.reference for n in limited.sent] == ["a", "b"]


async def test_injected_500_is_ambiguous_and_lookup_shows_it_was_not_taken(
    stub: NotifyStub, provider: GovUkNotifyProvider
) -> None:
    stub.faults.push(Fault(FaultKind.ERROR_500))
    with pytest.raises(AmbiguousProviderError) as raised:
        await provider.send(make_message())
    assert raised.value.status == 500
    assert await provider.find_by_reference("ref-1") is None
    await provider.send(make_message())
    assert len(stub.sent) == 1


async def test_timeout_is_ambiguous_and_nothing_recorded(stub: NotifyStub, session: aiohttp.ClientSession) -> None:
    provider = GovUkNotifyProvider(API_KEY, stub.url, session=session, timeout=0.2)
    stub.faults.push(Fault(FaultKind.TIMEOUT, seconds=2))
    with pytest.raises(AmbiguousProviderError) as raised:
        await provider.send(make_message())
    assert (raised.value.status, raised.value.error_code) == (None, "ReadTimeout")
    assert await provider.find_by_reference("ref-1") is None


async def test_accepted_then_dropped_is_ambiguous_and_found_by_reference(
    stub: NotifyStub, provider: GovUkNotifyProvider
) -> None:
    stub.faults.push(Fault(FaultKind.ACCEPT_THEN_DROP))
    with pytest.raises(AmbiguousProviderError) as raised:
        await provider.send(make_message(reference="dropped"))
    assert raised.value.status is None
    [sent] = stub.sent
    found = await provider.find_by_reference("dropped")
    assert found is not None
    assert (found.provider_id, found.reference) == (sent.id, "dropped")


async def test_accepted_then_500_is_found_by_reference(stub: NotifyStub, provider: GovUkNotifyProvider) -> None:
    stub.faults.push(Fault(FaultKind.ACCEPT_THEN_500))
    with pytest.raises(AmbiguousProviderError):
        await provider.send(make_message(reference="half"))
    assert await provider.find_by_reference("half") is not None


async def test_provider_keeps_working_after_faults(stub: NotifyStub, provider: GovUkNotifyProvider) -> None:
    stub.faults.push(Fault(FaultKind.ACCEPT_THEN_DROP), Fault(FaultKind.ERROR_500))
    for reference in ("a", "b"):
        with pytest.raises(AmbiguousProviderError):
            await provider.send(make_message(reference=reference))
    receipts = await asyncio.gather(*(provider.send(make_message(reference=f"ok-{i}")) for i in range(20)))
    assert len({r.provider_id for r in receipts}) == 20
    assert len(stub.sent) == 21


async def test_unreachable_provider_is_retryable_not_ambiguous(session: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = GovUkNotifyProvider(API_KEY, f"http://127.0.0.1:{port}", session=session)
    with pytest.raises(RetryableProviderError) as raised:
        await provider.send(make_message())
    assert not isinstance(raised.value, AmbiguousProviderError)
