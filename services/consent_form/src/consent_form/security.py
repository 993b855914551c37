"""Security headers on every response, and a per-client limit on form submissions."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict, deque
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Pages hold a child's details: no cache keeps them, no other site frames them, and the link token in
# the first URL never leaves in a Referer header.
_STATIC_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def csp(nonce: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self' https://assets.nhs.uk",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


class SecurityHeaders:
    """Pure ASGI middleware: a fresh CSP nonce per request (for the NHS.UK template's inline script)."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        static = scope["path"].startswith("/assets/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += _STATIC_HEADERS
                headers.append((b"content-security-policy", csp(nonce).encode()))
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                if self.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class RateLimit:
    """At most `limit` events per client in any `window` seconds (in memory: per process)."""

    def __init__(self, limit: int, *, window: float = 60.0, clients: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.clients = clients
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        times = self._seen.pop(client, None) or deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        allowed = len(times) < self.limit
        if allowed:
            times.append(now)
        self._seen[client] = times
        while len(self._seen) > self.clients:  # forget the least recently seen, so memory stays bounded
            self._seen.popitem(last=False)
        return allowed


def client_address(scope: dict[str, Any], trusted_proxies: int) -> str:
    """The client's address: the socket's, or the one `trusted_proxies` hops back in X-Forwarded-For."""
    if trusted_proxies:
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-for":
                hops = [h.strip() for h in value.decode("latin-1").split(",") if h.strip()]
                if len(hops) >= trusted_proxies:
                    return str(hops[-trusted_proxies])
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
