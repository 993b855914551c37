"""A GOV.UK Notify-compatible HTTP server for tests, benchmarks and fault injection.

In process::

    async with NotifyStub(api_key) as stub:      # 127.0.0.1, a free port
        provider = GovUkNotifyProvider(api_key, stub.url)
        stub.faults.push(Fault(FaultKind.ACCEPT_THEN_DROP))

Standalone: ``python -m notify_stub --port 8199 --api-key KEY
[--callback-url URL --callback-token TOKEN] [--rate-limit-per-minute 3000]``.

Notify API: ``POST /v2/notifications/email|sms``, ``GET /v2/notifications[?reference=]``,
``GET /v2/notifications/{id}``. Control API (no auth): ``POST /_control/faults`` (see
``FaultPlan.configure``), ``GET /_control/faults``, ``GET /_control/sent``, ``GET /_control/stats``,
``POST /_control/reset``, ``POST /_control/rate-limit`` ``{"per_minute": 3000 | null}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import time
import uuid
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from notify_stub.callbacks import MAX_CONCURRENT_CALLBACKS, CallbackSender
from notify_stub.checks import AuthFailure, TokenVerifier, validate_send
from notify_stub.faults import Fault, FaultKind, FaultPlan, RequestStats, RollingLimit
from notify_stub.http import DropConnection, HttpServer, Request, Response
from notify_stub.records import SentNotification, error, make_api_key, rate_limited

# accept_after_give_up waits this long at most for a client to give up: one that never does still gets
# its message recorded (and no answer), as a provider whose own limit on a request ran out.
GIVE_UP_BOUND = 300.0

__all__ = ["Fault", "FaultKind", "NotifyStub", "SentNotification", "main", "make_api_key"]


class NotifyStub:
    """The stub's state and routes; start()/stop() or ``async with`` it."""

    def __init__(
        self,
        api_key: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        callback_url: str | None = None,
        callback_token: str | None = None,
        callback_delay: float = 0.2,
        callback_concurrency: int = MAX_CONCURRENT_CALLBACKS,
        rate_limit_per_minute: int | None = None,
        seed: int | None = None,
    ) -> None:
        self.auth = TokenVerifier(api_key)
        self.faults = FaultPlan(seed)
        self.stats = RequestStats()
        self.limit = RollingLimit(rate_limit_per_minute) if rate_limit_per_minute else None
        self.sent: list[SentNotification] = []
        self._by_reference: dict[str, list[SentNotification]] = {}
        self._by_id: dict[str, SentNotification] = {}
        self._http = HttpServer(self.handle, host=host, port=port)
        self._host = host
        self._callbacks = (
            CallbackSender(
                callback_url, callback_token or "", delay=callback_delay, seed=seed, concurrency=callback_concurrency
            )
            if callback_url
            else None
        )

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._http.port}"

    async def start(self) -> None:
        await self._http.start()

    async def stop(self) -> None:
        await self._http.stop()
        if self._callbacks is not None:
            await self._callbacks.close()

    async def __aenter__(self) -> NotifyStub:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def reset(self) -> None:
        self.sent.clear()
        self._by_reference.clear()
        self._by_id.clear()
        self.faults.clear()
        self.stats = RequestStats()
        if self.limit is not None:
            self.limit = RollingLimit(self.limit.per_minute)

    def find(self, reference: str) -> list[SentNotification]:
        return list(self._by_reference.get(reference, ()))

    async def handle(self, request: Request) -> Response:
        path, method = request.path.rstrip("/"), request.method
        if path.startswith("/v2/notifications"):
            try:
                self.auth.check(request.headers.get("authorization"))
            except AuthFailure as failure:
                self.stats.outcome(f"auth_{failure.status}")
                return error(failure.status, "AuthError", failure.message)
            if method == "POST" and path in ("/v2/notifications/email", "/v2/notifications/sms"):
                return await self._send(path.rsplit("/", 1)[1], request)
            if method == "GET" and path == "/v2/notifications":
                return self._list(request.query)
            if method == "GET" and path.count("/") == 3:
                return self._get(path.rsplit("/", 1)[1])
        if path.startswith("/_control/"):
            return self._control(method, path.removeprefix("/_control/"), request)
        return error(404, "ResourceNotFound", "The requested URL was not found on the server.")

    async def _send(self, channel: str, request: Request) -> Response:
        self.stats.received(time.time())
        try:
            payload = request.json()
        except ValueError:
            return error(400, "BadRequestError", "Invalid JSON supplied in POST data")
        if errors := validate_send(channel, payload):
            self.stats.outcome("validation_error")
            return error(400, "ValidationError", *errors)
        fault = self.faults.next()
        if fault is not None:
            try:
                early = await self._fault_before_recording(fault, request)
            except DropConnection:  # an injected timeout: counted too, though nothing is answered
                self.stats.outcome(f"fault_{fault.kind}")
                raise
            if early is not None:
                self.stats.outcome(f"fault_{fault.kind}")
                return early
        if self.limit is not None and not self.limit.try_acquire(time.monotonic()):
            self.stats.outcome("rate_limited")
            return rate_limited(self.limit.per_minute)
        sent = self._record(channel, payload)
        if fault is not None and fault.kind in (FaultKind.ACCEPT_THEN_DROP, FaultKind.ACCEPT_AFTER_GIVE_UP):
            self.stats.outcome(f"fault_{fault.kind}")
            raise DropConnection
        if fault is not None and fault.kind is FaultKind.ACCEPT_THEN_500:
            self.stats.outcome(f"fault_{fault.kind}")
            return error(500, "Exception", "Internal server error")
        self.stats.outcome("accepted")
        return Response.json(201, sent.to_created_json(self.url))

    async def _fault_before_recording(self, fault: Fault, request: Request) -> Response | None:
        kind = fault.kind
        if kind is FaultKind.ACCEPT_AFTER_GIVE_UP:
            await _after_client_gave_up(request, fault.seconds)
            return None
        if kind is FaultKind.ERROR_500:
            return error(500, "Exception", "Internal server error")
        if kind is FaultKind.ERROR_429:
            response = rate_limited(3000)
            if fault.retry_after is not None:
                response.headers.append(("Retry-After", f"{fault.retry_after:g}"))
            return response
        if kind is FaultKind.ERROR_400:
            return error(400, "BadRequestError", "Can't send to this recipient using a team-only API key")
        if kind is FaultKind.ERROR_403:
            return error(403, "AuthError", "Invalid token: API key not found")
        if kind in (FaultKind.TIMEOUT, FaultKind.DELAY):
            await asyncio.sleep(fault.seconds)
            if kind is FaultKind.TIMEOUT:
                raise DropConnection
        return None

    def _record(self, channel: str, payload: dict[str, Any]) -> SentNotification:
        sent = SentNotification(
            id=str(uuid.uuid4()),
            reference=payload.get("reference"),
            channel=channel,
            to=payload["email_address" if channel == "email" else "phone_number"],
            template_id=payload["template_id"],
            personalisation=payload.get("personalisation") or {},
            received_at=datetime.now(UTC),
            sanitise_content_for=list(payload.get("sanitise_content_for") or []),
        )
        self.sent.append(sent)
        self._by_id[sent.id] = sent
        if sent.reference is not None:
            self._by_reference.setdefault(sent.reference, []).append(sent)
        self.stats.accepted(time.time())
        if self._callbacks is not None:
            self._callbacks.schedule(sent)
        return sent

    def _list(self, query: dict[str, str]) -> Response:
        self.stats.outcome("lookup")
        found = self.find(query["reference"]) if "reference" in query else list(self.sent)
        if "template_type" in query:
            found = [n for n in found if n.channel == query["template_type"]]
        if "status" in query:
            found = [n for n in found if n.status == query["status"]]
        notifications = [n.to_notify_json(self.url) for n in reversed(found[-250:])]  # newest first
        links = {"current": f"{self.url}/v2/notifications"}
        return Response.json(200, {"notifications": notifications, "links": links})

    def _get(self, notification_id: str) -> Response:
        sent = self._by_id.get(notification_id)
        if sent is None:
            return error(404, "NoResultFound", "No result found")
        return Response.json(200, sent.to_notify_json(self.url))

    def _control(self, method: str, action: str, request: Request) -> Response:
        if method == "GET" and action == "sent":
            return Response.json(200, {"notifications": [n.to_json() for n in self.sent]})
        if method == "GET" and action == "stats":
            extra: dict[str, int] = {}
            if (callbacks := self._callbacks) is not None:
                extra = {"callbacks_answered": callbacks.answered, "callbacks_abandoned": callbacks.abandoned}
            return Response.json(200, {**self.stats.snapshot(), "recorded": len(self.sent), **extra})
        if method == "GET" and action == "faults":
            return Response.json(200, self.faults.snapshot())
        if method == "POST" and action == "reset":
            self.reset()
            return Response.json(200, {"reset": True})
        try:
            if method == "POST" and action == "faults":
                self.faults.configure(request.json())
                return Response.json(200, self.faults.snapshot())
            if method == "POST" and action == "rate-limit":
                per_minute = (request.json() or {}).get("per_minute")
                self.limit = RollingLimit(int(per_minute)) if per_minute else None
                return Response.json(200, {"per_minute": per_minute})
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            return error(400, "ValidationError", str(exc))
        return error(404, "ResourceNotFound", f"no control action {method} {action}")


async def _after_client_gave_up(request: Request, seconds: float) -> None:
    """`seconds` after the client closed the connection (or after GIVE_UP_BOUND, if it never does)."""
    if request.client_gone is not None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(request.client_gone(), GIVE_UP_BOUND)
    await asyncio.sleep(seconds)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    description = (__doc__ or "").splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m notify_stub", description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8199)
    parser.add_argument("--api-key", required=True, help="{name}-{service_id}-{secret}")
    parser.add_argument("--callback-url")
    parser.add_argument("--callback-token")
    parser.add_argument("--callback-delay", type=float, default=0.2)
    parser.add_argument("--callback-concurrency", type=int, default=MAX_CONCURRENT_CALLBACKS)
    parser.add_argument("--rate-limit-per-minute", type=int)
    parser.add_argument("--seed", type=int)
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    stub = NotifyStub(
        args.api_key,
        host=args.host,
        port=args.port,
        callback_url=args.callback_url,
        callback_token=args.callback_token,
        callback_delay=args.callback_delay,
        callback_concurrency=args.callback_concurrency,
        rate_limit_per_minute=args.rate_limit_per_minute,
        seed=args.seed,
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopping.set)
    async with stub:
        print(f"GOV.UK Notify stub listening on {stub.url}", flush=True)
        await stopping.wait()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(_serve(_parse_args(argv)))
