"""A minimal asyncio HTTP/1.1 server (keep-alive, Content-Length bodies) for the Notify stub.

Hand-written rather than ASGI so that a handler can drop the connection without answering
(``DropConnection``), which is the fault the stub exists to inject, and so that it stays fast
and dependency-free. It is for tests and benchmarks on loopback, not for untrusted traffic.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote

logger = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024
MAX_BODY = 8 * 1024 * 1024


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    # Returns once the client has closed the connection (None: a request built outside the server).
    client_gone: Callable[[], Awaitable[None]] | None = None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> Response:
        return cls(status, json.dumps(payload, separators=(",", ":")).encode(), headers=headers or [])


class DropConnection(Exception):
    """Raised by a handler: close the connection at once, without any response."""


Handler = Callable[[Request], Awaitable[Response]]


class _BadRequest(Exception):
    pass


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    try:
        request_line, *lines = head[:-4].decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ", 2)
    except ValueError:
        raise _BadRequest from None
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise _BadRequest
        headers[name.strip().lower()] = value.strip()
    return method, target, version, headers


async def _until_closed(reader: asyncio.StreamReader) -> None:
    """Until the client closes the connection; anything it sends meanwhile is discarded (it gets no answer)."""
    with contextlib.suppress(ConnectionError):
        while await reader.read(4096):
            pass


def _encode(response: Response, keep_alive: bool) -> bytes:
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = "Unknown"
    extra = "".join(f"{k}: {v}\r\n" for k, v in response.headers)
    head = (
        f"HTTP/1.1 {response.status} {reason}\r\n"
        f"Content-Type: {response.content_type}\r\n"
        f"Content-Length: {len(response.body)}\r\n"
        f"{extra}Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    return head.encode("latin-1") + response.body


class HttpServer:
    """Serves `handler` on host:port (port 0 picks a free one) until stop()."""

    def __init__(self, handler: Handler, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self._host, self._port, limit=MAX_HEAD, backlog=2048)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        # Handlers may be sleeping in an injected timeout: cancel rather than wait for them.
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), 5)
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while await self._serve_one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            writer.transport.abort()
            raise
        finally:
            self._connections.discard(task)
            writer.close()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False  # client closed between requests
        except asyncio.LimitOverrunError:
            writer.write(_encode(Response(431), keep_alive=False))
            return False
        try:
            method, target, version, headers = _parse_head(head)
            if "transfer-encoding" in headers:
                raise _BadRequest
            length = int(headers.get("content-length") or 0)
            if not 0 <= length <= MAX_BODY:
                raise _BadRequest
        except (_BadRequest, ValueError):
            writer.write(_encode(Response(400), keep_alive=False))
            return False
        body = await reader.readexactly(length) if length else b""
        path, _, query = target.partition("?")
        request = Request(
            method.upper(), unquote(path), dict(parse_qsl(query)), headers, body, lambda: _until_closed(reader)
        )
        keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        try:
            response = await self._handler(request)
        except DropConnection:
            writer.transport.abort()
            return False
        except Exception:
            logger.exception("stub handler failed for %s %s", request.method, request.path)
            response = Response.json(500, {"status_code": 500, "errors": [{"error": "Exception"}]})
        writer.write(_encode(response, keep_alive))
        if writer.transport.get_write_buffer_size() > 65536:
            await writer.drain()
        return keep_alive
