"""A service's runtime: engine, broker, outbox relay, HTTP health/metrics, and its start-up order."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from faststream.asgi import AsgiFastStream
from faststream.rabbit import RabbitRouter
from prometheus_client import make_asgi_app
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from msgkit import db, logs, metrics
from msgkit.broker import declare_topology, make_broker, relay_publisher, tls_options
from msgkit.consumers import ConsumerWatchdog
from msgkit.deadletter import DeadLetterPolicy
from msgkit.failover import FailoverBroker
from msgkit.outbox import OutboxRelay
from msgkit.settings import ServiceSettings
from msgkit.tables import MessagingTables
from msgkit.uow import UnitOfWork
from msgkit.wiring import CONTEXT_NAME, Wiring

log = logging.getLogger(__name__)

Hook = Callable[["Runtime"], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]
U = TypeVar("U", bound=UnitOfWork)


class Runtime:
    """Everything one service process holds. Built by the app factory; connects only on start-up."""

    def __init__(self, settings: ServiceSettings, tables: MessagingTables) -> None:
        self.settings = settings
        self.service = settings.service_name
        self.tables = tables
        self.dead_letters = DeadLetterPolicy(self.service, operators=settings.operators)
        self.broker: FailoverBroker = make_broker(
            settings.rabbitmq_url.get_secret_value(),
            service=self.service,
            prefetch_count=settings.prefetch_count,
            graceful_timeout=settings.graceful_timeout,
            ssl_options=tls_options(settings),
            dead_letters=self.dead_letters,
        )
        self.consumers = ConsumerWatchdog(self.broker, service=self.service, interval=settings.consumer_check_interval)
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._relay: OutboxRelay | None = None
        self._started = False

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("runtime not started")
        return self._engine

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        if self._sessions is None:
            raise RuntimeError("runtime not started")
        return self._sessions

    def uow_factory(self, kind: Callable[..., U], **parts: Any) -> Callable[[], U]:
        """A maker of `kind` units of work on this runtime's database, inbox and outbox (`parts` to its own
        constructor): what a composition root puts in its service's `Wiring`."""

        def new_uow() -> U:
            return kind(self.sessions, self.tables, consumer=self.service, on_commit=self.wake_relay, **parts)

        return new_uow

    def wake_relay(self) -> None:
        if self._relay is not None:
            self._relay.wake()

    async def open_database(self) -> None:
        self._engine = db.engine_for(self.settings)
        self._sessions = db.session_factory(self._engine)

    async def declare_topology(self) -> None:
        """Before the subscribers start: they only open the exchanges they consume from."""
        await self.broker.connect()
        await declare_topology(self.broker, self.service, others=self.settings.declare_topology)

    async def start_relay(self) -> None:
        self._relay = OutboxRelay(
            self.sessions,
            self.tables.outbox,
            relay_publisher(self.broker),
            service=self.service,
            batch_size=self.settings.outbox_batch_size,
            batch_bytes=self.settings.outbox_batch_bytes,
            poll_interval=self.settings.outbox_poll_interval,
        )
        self._relay.start()
        self.consumers.start()
        self._started = True
        metrics.READY.labels(self.service).set(1)

    async def stop(self) -> None:
        metrics.READY.labels(self.service).set(0)
        await self.consumers.stop()
        if self._relay is not None:
            await self._relay.stop()
        if self._engine is not None:
            await self._engine.dispose()

    async def readiness(self) -> dict[str, bool]:
        checks = {"started": self._started, "broker": False, "consumers": False, "database": False}
        try:
            checks["broker"] = await self.broker.ping(timeout=2.0)
        except Exception:
            checks["broker"] = False
        subscribers = list(self.broker.subscribers)
        # `running` stays True when the broker has dropped a consumer (FastStream #2758): ask the channel too.
        checks["consumers"] = (
            checks["broker"]
            and all(getattr(s, "running", False) for s in subscribers)
            and not await self.consumers.detached()
        )
        try:
            async with asyncio.timeout(2.0), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = True
        except Exception:
            checks["database"] = False
        return checks


def _json_endpoint(compute: Callable[[], Awaitable[tuple[int, dict[str, Any]]]]) -> ASGIApp:
    async def endpoint(scope: dict[str, Any], receive: Any, send: Any) -> None:
        status, body = await compute()
        payload = json.dumps(body).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    return endpoint


def build_app(
    runtime: Runtime,
    wiring: Wiring[Any],
    routers: Sequence[RabbitRouter],
    *,
    on_started: Sequence[Hook] = (),
    on_stopping: Sequence[Hook] = (),
    title: str = "",
    extra_routes: Sequence[tuple[str, ASGIApp]] = (),
) -> AsgiFastStream:
    """The service's app: consumers, outbox relay, `/health/live`, `/health/ready`, `/metrics`, AsyncAPI."""
    s = runtime.settings
    logs.configure(runtime.service, level=s.log_level, json=s.log_json)
    for router in routers:
        runtime.broker.include_router(router)
    hooks = _Lifecycle(runtime, on_started, on_stopping)
    app = AsgiFastStream(
        runtime.broker,
        asgi_routes=[*_health_routes(runtime), *extra_routes],
        on_startup=[hooks.on_startup],
        after_startup=[hooks.after_startup],
        on_shutdown=[hooks.on_shutdown],
        after_shutdown=[hooks.after_shutdown],
        asyncapi_path="/docs/asyncapi",
    )
    for context in (app.context, runtime.broker.context):
        context.set_global("runtime", runtime)
        context.set_global(CONTEXT_NAME, wiring)
    return app


def _health_routes(runtime: Runtime) -> list[tuple[str, ASGIApp]]:
    async def live() -> tuple[int, dict[str, Any]]:
        return 200, {"status": "live", "service": runtime.service}

    async def ready() -> tuple[int, dict[str, Any]]:
        checks = await runtime.readiness()
        return (200 if all(checks.values()) else 503), {"service": runtime.service, "checks": checks}

    return [
        ("/health/live", _json_endpoint(live)),
        ("/health/ready", _json_endpoint(ready)),
        ("/metrics", make_asgi_app()),
    ]


class _Lifecycle:
    """The app's start-up and shutdown order: database and topology, then the relay and the service's hooks;
    on shutdown the service's hooks, then the runtime."""

    def __init__(self, runtime: Runtime, on_started: Sequence[Hook], on_stopping: Sequence[Hook]) -> None:
        self.runtime = runtime
        self.on_started = on_started
        self.on_stopping = on_stopping

    async def on_startup(self) -> None:
        await self.runtime.open_database()
        await self.runtime.declare_topology()

    async def after_startup(self) -> None:
        await self.runtime.start_relay()
        for hook in self.on_started:
            await hook(self.runtime)
        log.info("service started", extra={"http_port": self.runtime.settings.http_port})

    async def on_shutdown(self) -> None:
        self.runtime.dead_letters.stop_backing_off()
        for hook in self.on_stopping:
            await hook(self.runtime)

    async def after_shutdown(self) -> None:
        await self.runtime.stop()


def serve(app: AsgiFastStream, settings: ServiceSettings) -> None:
    """Run the app under uvicorn; SIGTERM drains in-flight handlers for up to `graceful_timeout`."""
    import uvicorn

    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=int(settings.graceful_timeout),
        lifespan="on",
    )
