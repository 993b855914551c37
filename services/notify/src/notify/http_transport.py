"""An httpx transport over aiohttp, for the GOV.UK Notify client at hundreds of requests in flight.

httpcore's pool re-scans every connection on every request event, so with a hundred connections
the dispatcher spends its CPU in the pool rather than on the wire. aiohttp's connector does not.
Errors are mapped onto httpx's, so `GovUkNotifyProvider` classifies them unchanged: a connection
that was never made is `ConnectError` (not sent), anything after that is a `TransportError` that the
provider treats as ambiguous.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import httpx


class _Body(httpx.AsyncByteStream):
    def __init__(self, content: bytes) -> None:
        self._content = content

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._content


class AiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, max_connections: int = 100, keepalive: float = 15.0) -> None:
        self._limit = max_connections
        self._keepalive = keepalive
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use, inside the running event loop aiohttp binds it to.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit, keepalive_timeout=self._keepalive)
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=timeouts.get("pool"),
            sock_connect=timeouts.get("connect"),
            sock_read=timeouts.get("read"),
        )
        body = await request.aread()
        try:
            async with self._client().request(
                request.method,
                str(request.url),
                data=body or None,
                headers=[(k.decode(), v.decode()) for k, v in request.headers.raw if k.lower() != b"host"],
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                content = await response.read()
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc), request=request) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(str(exc), request=request) from exc
        # Bodies stay as sent (auto_decompress off), so httpx decodes them by their headers as usual.
        return httpx.Response(
            response.status, headers=list(response.raw_headers), stream=_Body(content), request=request
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
