"""The GOV.UK Notify stub itself: control API, callbacks, and compatibility with Notify's own client.

Driven through notify's GovUkNotifyProvider, the client the stub exists to serve (notify is a test
dependency only: the stub's own code imports nothing from it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import httpx
import jwt
import pytest
import pytest_asyncio

from notify.delivery.govuk_notify import GovUkNotifyProvider, parse_api_key
from notify.delivery.providers import AmbiguousProviderError, OutboundMessage
from notify.domain.templates import Channel, MessageKind
from notify_stub import Fault, FaultKind, NotifyStub, make_api_key
from notify_stub.http import HttpServer, Request, Response
from testkit import eventually

pytestmark = pytest.mark.unit

API_KEY = make_api_key("test")
SERVICE_ID, SECRET = parse_api_key(API_KEY)
TEMPLATE_ID = "626080e2-a56c-48e4-b612-4da628a23c5b"


def make_message(reference: str, to: str = "parent@example.com", channel: Channel = Channel.EMAIL) -> OutboundMessage:
    return OutboundMessage(
        reference=reference,
        kind=MessageKind.CLINIC_INITIAL_INVITATION,
        channel=channel,
        to=to,
        template_id=TEMPLATE_ID,
        personalisation={"child_first_name": "Ada"},
        body="Hello Ada",
    )


@pytest_asyncio.fixture
async def stub() -> AsyncIterator[NotifyStub]:
    async with NotifyStub(API_KEY, seed=1) as running:
        yield running


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as shared:
        yield shared


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as shared:
        yield shared


async def test_control_api_queues_faults_and_lists_sent(
    stub: NotifyStub, client: httpx.AsyncClient, session: aiohttp.ClientSession
) -> None:
    provider = GovUkNotifyProvider(API_KEY, stub.url, session=session)
    response = await client.post(f"{stub.url}/_control/faults", json={"faults": [{"kind": "500", "count": 2}]})
    assert response.status_code == 200
    assert len(response.json()["queued"]) == 2
    for reference in ("a", "b"):
        with pytest.raises(AmbiguousProviderError):
            await provider.send(make_message(reference))
    await provider.send(make_message("c"))
    sent = (await client.get(f"{stub.url}/_control/sent")).json()["notifications"]
    assert [n["reference"] for n in sent] == ["c"]
    assert sent[0]["to"] == "parent@example.com"
    stats = (await client.get(f"{stub.url}/_control/stats")).json()
    assert stats["totals"] == {"fault_500": 2, "accepted": 1}
    assert sum(s["received"] for s in stats["per_second"]) == 3
    await client.post(f"{stub.url}/_control/reset")
    assert (await client.get(f"{stub.url}/_control/sent")).json()["notifications"] == []


async def test_probabilistic_faults_until_switched_off(
    stub: NotifyStub, client: httpx.AsyncClient, session: aiohttp.ClientSession
) -> None:
    provider = GovUkNotifyProvider(API_KEY, stub.url, session=session)
    await client.post(f"{stub.url}/_control/faults", json={"probabilistic": {"rate": 1.0, "kinds": ["500"]}})
    with pytest.raises(AmbiguousProviderError):
        await provider.send(make_message("a"))
    await client.post(f"{stub.url}/_control/faults", json={"probabilistic": None})
    await provider.send(make_message("b"))
    assert [n.reference for n in stub.sent] == ["b"]


async def test_bad_control_request_is_a_400(stub: NotifyStub, client: httpx.AsyncClient) -> None:
    response = await client.post(f"{stub.url}/_control/faults", json=[{"kind": "explode"}])
    assert response.status_code == 400


async def test_lookup_by_id_and_unknown_routes(
    stub: NotifyStub, client: httpx.AsyncClient, session: aiohttp.ClientSession
) -> None:
    provider = GovUkNotifyProvider(API_KEY, stub.url, session=session)
    receipt = await provider.send(make_message("a", to="07700 900123", channel=Channel.SMS))
    token = jwt.encode({"iss": SERVICE_ID, "iat": int(time.time())}, SECRET, algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}"}
    found = (await client.get(f"{stub.url}/v2/notifications/{receipt.provider_id}", headers=headers)).json()
    assert (found["type"], found["phone_number"], found["reference"]) == ("sms", "07700 900123", "a")
    assert (await client.get(f"{stub.url}/v2/notifications/{receipt.provider_id}")).status_code == 401
    assert (await client.get(f"{stub.url}/nowhere")).status_code == 404


async def test_delivery_callbacks_carry_bearer_token_and_status(session: aiohttp.ClientSession) -> None:
    received: list[tuple[str | None, dict[str, str]]] = []

    async def on_callback(request: Request) -> Response:
        received.append((request.headers.get("authorization"), request.json()))
        return Response(204)

    receiver = HttpServer(on_callback)
    await receiver.start()
    try:
        url = f"http://127.0.0.1:{receiver.port}/notifications"
        async with NotifyStub(API_KEY, callback_url=url, callback_token="cb-token", callback_delay=0.01) as stub:
            provider = GovUkNotifyProvider(API_KEY, stub.url, session=session)
            ok = await provider.send(make_message("ok"))
            await provider.send(make_message("bad", to="perm-fail@simulator.notify"))
            for _ in range(200):
                if len(received) == 2:
                    break
                await asyncio.sleep(0.01)
    finally:
        await receiver.stop()
    by_reference = {body["reference"]: (auth, body) for auth, body in received}
    auth, body = by_reference["ok"]
    assert auth == "Bearer cb-token"
    assert (body["id"], body["status"], body["notification_type"]) == (ok.provider_id, "delivered", "email")
    assert by_reference["bad"][1]["status"] == "permanent-failure"


async def test_official_notify_client_works_against_the_stub(stub: NotifyStub) -> None:
    official = pytest.importorskip("notifications_python_client.notifications")
    api = official.NotificationsAPIClient(API_KEY, base_url=stub.url)
    created = await asyncio.to_thread(
        api.send_sms_notification, phone_number="+447700900123", template_id=TEMPLATE_ID, reference="official"
    )
    listed = await asyncio.to_thread(api.get_all_notifications, reference="official")
    assert [n["id"] for n in listed["notifications"]] == [created["id"]]


async def test_an_injected_timeout_is_counted_though_nothing_is_answered(
    stub: NotifyStub, client: httpx.AsyncClient, session: aiohttp.ClientSession
) -> None:
    await client.post(f"{stub.url}/_control/faults", json={"faults": [{"kind": "timeout", "seconds": 0.01}]})
    provider = GovUkNotifyProvider(API_KEY, stub.url, session=session)
    with pytest.raises(AmbiguousProviderError):
        await provider.send(make_message("t"))
    stats = (await client.get(f"{stub.url}/_control/stats")).json()
    assert stats["totals"].get("fault_timeout") == 1
    assert stats["recorded"] == 0


async def test_accepted_after_the_client_gave_up(stub: NotifyStub, session: aiohttp.ClientSession) -> None:
    stub.faults.push(Fault(FaultKind.ACCEPT_AFTER_GIVE_UP, seconds=0.5))
    provider = GovUkNotifyProvider(API_KEY, stub.url, session=session, timeout=0.2)
    with pytest.raises(AmbiguousProviderError):
        await provider.send(make_message("late"))
    gave_up = time.monotonic()
    assert stub.find("late") == []  # a lookup now finds nothing: the provider is still working on it

    async def recorded() -> bool:
        return bool(stub.find("late"))

    await eventually(recorded, timeout=5, interval=0.01, what="the late acceptance")
    assert time.monotonic() - gave_up >= 0.45
    assert stub.stats.snapshot()["totals"] == {"fault_accept_after_give_up": 1}
