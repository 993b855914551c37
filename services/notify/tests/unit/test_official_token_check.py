"""GovUkNotifyProvider's requests pass GOV.UK Notify's token check, done with the official client's own code.

The server here is not the project's stub: it is a few lines of aiohttp.web whose only judgement is
`notifications_python_client.authentication`, with the service id and secret cut from the API key by
the official client itself. A provider whose JWT drifted from Notify's (claims, algorithm, signing
key, clock) would be refused here even if the project's stub, written by the same hands, let it by.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from notifications_python_client.authentication import decode_jwt_token, get_token_issuer
from notifications_python_client.base import BaseAPIClient
from notifications_python_client.errors import TokenError

from notify.delivery.govuk_notify import GovUkNotifyProvider
from notify.delivery.providers import OutboundMessage, PermanentProviderError
from notify.domain.templates import Channel, MessageKind

pytestmark = pytest.mark.unit

SERVICE_ID = "5f0bd0b4-8b3c-4c5e-9a43-3f1a2b7c9d01"
SECRET = "0e8a7c62-51d4-4f3e-b2a9-6c1d8e4f7a35"
API_KEY = f"clinics_test-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID = "8c1b9d52-3e7f-4a60-9b2d-1f4e6a8c0d73"


def _official_key_parts(api_key: str) -> tuple[str, str]:
    """(service_id, secret) exactly as the official client cuts them from an API key."""
    client = BaseAPIClient(api_key, base_url="http://127.0.0.1")
    client.request_session.close()
    return client.service_id, client.api_key


def _auth_error(status: int, message: str) -> web.Response:
    # Notify's error body: the provider reads errors[0].error as its error code.
    return web.json_response(
        {"errors": [{"error": "AuthError", "message": message}], "status_code": status}, status=status
    )


@dataclass
class TokenCheckingNotify:
    """Notify's send endpoints, admitting a request only when the official decoder accepts its token."""

    api_key: str
    issuers: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    async def send(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request.headers.get("Authorization", ""))
        if refusal is not None:
            self.refusals.append(refusal.text or "")
            return refusal
        payload: dict[str, Any] = await request.json()
        return web.json_response(self._created(request.match_info["channel"], payload), status=201)

    def _refusal(self, authorization: str) -> web.Response | None:
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or not token:
            return _auth_error(401, "Unauthorized: authentication token must be provided")
        service_id, secret = _official_key_parts(self.api_key)
        try:
            issuer = get_token_issuer(token)
            if issuer != service_id:
                return _auth_error(403, "Invalid token: service not found")
            decode_jwt_token(token, secret)
        except TokenError as error:
            return _auth_error(403, f"Invalid token: {type(error).__name__}")
        self.issuers.append(issuer)
        return None

    @staticmethod
    def _created(channel: str, payload: dict[str, Any]) -> dict[str, Any]:
        notification_id = str(uuid.uuid4())
        content = {"body": "…", "subject": "…", "from_email": "clinics@notifications.example"}
        if channel == "sms":
            content = {"body": "…", "from_number": "CLINICS"}
        return {
            "id": notification_id,
            "reference": payload.get("reference"),
            "content": content,
            "uri": f"/v2/notifications/{notification_id}",
            "template": {"id": payload["template_id"], "version": 1, "uri": f"/v2/template/{payload['template_id']}"},
            "scheduled_for": None,
        }


@pytest_asyncio.fixture
async def notify() -> AsyncIterator[tuple[TokenCheckingNotify, str]]:
    server = TokenCheckingNotify(API_KEY)
    app = web.Application()
    app.router.add_post("/v2/notifications/{channel:email|sms}", server.send)
    runner = web.AppRunner(app)
    await runner.setup()
    # Port 0: the kernel picks a free port at bind time, so no other process can take it first.
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield server, f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as shared:
        yield shared


def _message(channel: Channel, reference: str) -> OutboundMessage:
    to = "parent@example.com" if channel is Channel.EMAIL else "07700 900000"
    return OutboundMessage(
        reference=reference,
        kind=MessageKind.CLINIC_INITIAL_INVITATION,
        channel=channel,
        to=to,
        template_id=TEMPLATE_ID,
        personalisation={"booking_link": "https://book.example/clinic"},
        body="…",
        subject="…" if channel is Channel.EMAIL else None,
    )


def _provider(
    url: str, session: aiohttp.ClientSession, *, api_key: str = API_KEY, clock: Callable[[], float] = time.time
) -> GovUkNotifyProvider:
    return GovUkNotifyProvider(api_key, url, session=session, timeout=5.0, clock=clock)


def test_the_official_client_reads_the_key_as_the_provider_does() -> None:
    assert _official_key_parts(API_KEY) == (SERVICE_ID, SECRET)


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS])
async def test_a_send_with_the_right_key_is_accepted(
    notify: tuple[TokenCheckingNotify, str], session: aiohttp.ClientSession, channel: Channel
) -> None:
    server, url = notify
    receipt = await _provider(url, session).send(_message(channel, "accepted"))
    assert server.refusals == []
    assert server.issuers == [SERVICE_ID]
    assert receipt.reference == "accepted"
    uuid.UUID(receipt.provider_id)


async def test_a_send_signed_with_the_wrong_secret_is_a_permanent_error(
    notify: tuple[TokenCheckingNotify, str], session: aiohttp.ClientSession
) -> None:
    server, url = notify
    wrong_secret = f"clinics_test-{SERVICE_ID}-{uuid.uuid4()}"
    with pytest.raises(PermanentProviderError) as raised:
        await _provider(url, session, api_key=wrong_secret).send(_message(Channel.EMAIL, "refused"))
    assert (raised.value.status, raised.value.error_code) == (403, "AuthError")
    assert server.issuers == []
    assert len(server.refusals) == 1 and "TokenDecodeError" in server.refusals[0]


async def test_a_key_of_another_service_is_a_permanent_error(
    notify: tuple[TokenCheckingNotify, str], session: aiohttp.ClientSession
) -> None:
    server, url = notify
    other_service = f"clinics_test-{uuid.uuid4()}-{SECRET}"
    with pytest.raises(PermanentProviderError) as raised:
        await _provider(url, session, api_key=other_service).send(_message(Channel.SMS, "refused"))
    assert raised.value.status == 403
    assert server.issuers == [] and "service not found" in server.refusals[0]


@pytest.mark.parametrize(
    ("skew", "accepted"),
    # Notify allows 30 s either way; these stay well clear of that edge so a slow machine cannot flip them.
    [(-10.0, True), (10.0, True), (-120.0, False), (120.0, False)],
)
async def test_the_token_carries_the_providers_clock_within_notifys_bound(
    notify: tuple[TokenCheckingNotify, str], session: aiohttp.ClientSession, skew: float, accepted: bool
) -> None:
    server, url = notify
    provider = _provider(url, session, clock=lambda: time.time() + skew)
    if accepted:
        await provider.send(_message(Channel.EMAIL, "skewed"))
        assert server.issuers == [SERVICE_ID]
    else:
        with pytest.raises(PermanentProviderError):
            await provider.send(_message(Channel.EMAIL, "skewed"))
        assert server.issuers == [] and "TokenExpiredError" in server.refusals[0]
