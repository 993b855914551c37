"""The GOV.UK Notify HTTP API client: one provider behind `providers.Provider`.

It talks to the HTTP API with ``aiohttp`` rather than the official
``notifications-python-client``: that client is synchronous (``requests``), so reaching the
dispatcher's target of 1,000+ sends a second would need hundreds of threads, whereas one event loop
can keep that many requests in flight over a shared connection pool. aiohttp rather than httpx:
profiled at a hundred requests in flight, httpx's request and response machinery (and httpcore's
pool, which re-scans every connection on every event) cost about twice the CPU of the call itself.
The wire format, JWT auth and error bodies are the same as the official client's.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import aiohttp
import jwt

from notify.delivery.providers import (
    AmbiguousProviderError,
    OutboundMessage,
    PermanentProviderError,
    ProviderReceipt,
    RetryableProviderError,
)
from notify.domain.templates import Channel, sanitised_fields

DEFAULT_BASE_URL = "https://api.notifications.service.gov.uk"
USER_AGENT = "clinic-invitations-notify/1.0"


def parse_api_key(api_key: str) -> tuple[str, str]:
    """(service_id, secret) from ``{key_name}-{service_id}-{secret}``, as Notify's client does."""
    service_id, secret = api_key[-73:-37], api_key[-36:]
    try:
        if api_key[-37] != "-":
            raise ValueError
        uuid.UUID(service_id)
        uuid.UUID(secret)
    except (ValueError, IndexError):
        raise ValueError("malformed GOV.UK Notify API key") from None  # never echo the key
    return service_id, secret


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: bytes
    retry_after: float | None

    def json(self) -> Any:
        return json.loads(self.body)

    def error_code(self) -> str:
        try:
            code = self.json()["errors"][0]["error"]
        except (ValueError, KeyError, IndexError, TypeError):
            return f"HTTP{self.status}"
        return str(code)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    try:
        return max(0.0, float(headers["retry-after"]))
    except (KeyError, ValueError):
        return None


class _NotSent(Exception):
    """The request never reached the server (no connection, or none free in time): it cannot have been taken."""


class _Lost(Exception):
    """The request may have reached the server, but no answer came back (timeout, dropped connection)."""


@dataclass(slots=True)
class _TokenCache:
    iat: int = -1
    token: str = field(default="")


class GovUkNotifyProvider:
    """GOV.UK Notify over its v2 HTTP API (``/v2/notifications/email`` and ``/sms``).

    It keeps one connection pool of `max_connections` (which bounds concurrency), made on first use
    inside the running loop; `aclose` closes it. A caller may pass its own `session` (and closes it).
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 10.0,
        max_connections: int = 100,
        keepalive: float = 15.0,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._service_id, self._secret = parse_api_key(api_key)
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_connect=timeout, sock_read=timeout)
        self._limit = max_connections
        self._keepalive = keepalive
        self._session = session
        self._owns_session = session is None
        self._clock = clock
        self._cache = _TokenCache()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit, keepalive_timeout=self._keepalive)
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=True)
        return self._session

    def _headers(self, *, body: bool) -> dict[str, str]:
        # Notify accepts a token for 30 s either side of its clock; one per second is plenty.
        iat = int(self._clock())
        if iat != self._cache.iat:
            claims = {"iss": self._service_id, "iat": iat}
            self._cache.token = jwt.encode(claims, self._secret, algorithm="HS256", headers={"typ": "JWT"})
            self._cache.iat = iat
        headers = {"Authorization": f"Bearer {self._cache.token}", "User-Agent": USER_AGENT}
        if body:
            headers["Content-Type"] = "application/json"
        return headers

    async def _call(
        self, method: str, path: str, *, payload: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> _Answer:
        data = json.dumps(payload).encode() if payload is not None else None
        try:
            async with self._client().request(
                method,
                self._base_url + path,
                data=data,
                params=params,
                headers=self._headers(body=data is not None),
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                return _Answer(response.status, await response.read(), _retry_after(response.headers))
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError, aiohttp.InvalidURL) as exc:
            raise _NotSent(type(exc).__name__) from exc
        except TimeoutError as exc:
            raise _Lost("ReadTimeout") from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise _Lost("RemoteProtocolError") from exc
        except aiohttp.ClientError as exc:
            raise _Lost(type(exc).__name__) from exc

    @staticmethod
    def _payload(message: OutboundMessage) -> tuple[str, dict[str, Any]]:
        common = {
            "template_id": message.template_id,
            "personalisation": dict(message.personalisation),
            "reference": message.reference,
        }
        if message.channel is Channel.SMS:
            return "/v2/notifications/sms", {"phone_number": message.to, **common}
        body: dict[str, Any] = {"email_address": message.to, **common}
        if typed := sanitised_fields(message.personalisation):
            body["sanitise_content_for"] = typed  # what people typed stays text: no links, no markdown
        if message.reply_to_id:
            body["email_reply_to_id"] = message.reply_to_id
        return "/v2/notifications/email", body

    async def send(self, message: OutboundMessage) -> ProviderReceipt:
        path, payload = self._payload(message)
        try:
            answer = await self._call("POST", path, payload=payload)
        except _NotSent as exc:
            raise RetryableProviderError(None, error_code=str(exc)) from exc
        except _Lost as exc:
            raise AmbiguousProviderError(None, error_code=str(exc)) from exc
        status = answer.status
        if status in (200, 201):
            try:
                return ProviderReceipt(str(answer.json()["id"]), message.reference)
            except (ValueError, KeyError, TypeError):
                raise AmbiguousProviderError(status, error_code="UnreadableResponse") from None
        if status in (408, 429):
            raise RetryableProviderError(status, answer.retry_after, answer.error_code())
        if 400 <= status < 500:
            raise PermanentProviderError(status, answer.error_code())
        raise AmbiguousProviderError(status, answer.retry_after, answer.error_code())

    async def find_by_reference(self, reference: str) -> ProviderReceipt | None:
        """Notify's notification with this reference (newest first if several), or None.

        A failed lookup raises RetryableProviderError (never Ambiguous: a GET changes nothing);
        the caller must then neither resend nor give up, but look again later.
        """
        try:
            answer = await self._call("GET", "/v2/notifications", params={"reference": reference})
        except (_NotSent, _Lost) as exc:
            raise RetryableProviderError(None, error_code=str(exc)) from exc
        status = answer.status
        if status == 200:
            try:
                ids = [n["id"] for n in answer.json()["notifications"] if n.get("reference") == reference]
            except (ValueError, KeyError, TypeError, AttributeError):
                raise RetryableProviderError(status, error_code="UnreadableResponse") from None
            return ProviderReceipt(str(ids[0]), reference) if ids else None
        if status == 429 or status >= 500:
            raise RetryableProviderError(status, answer.retry_after, answer.error_code())
        raise PermanentProviderError(status, answer.error_code())
