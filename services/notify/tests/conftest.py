"""Fixtures of the notify tests: the app on the real broker and database, the Notify stub, a harness."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import aio_pika
import pytest
from faststream.asgi import AsgiFastStream
from faststream.rabbit import RabbitBroker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from msgkit.clock import FixedClock
from msgkit.db import create_engine
from msgkit.failover import FailoverBroker
from notify.app import create_app
from notify.config import Settings
from notify.delivery.govuk_notify import GovUkNotifyProvider
from notify.delivery.providers import Provider
from notify_stub import NotifyStub
from testkit import Observer, observe, running

from . import notify_support
from .notify_support import API_KEY, BATCHED, NOW, Harness

CALLBACK_TOKEN = "callback-token-for-tests"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def notify_database(migrated: Callable[[str], str]) -> str:
    return migrated("notify")


@pytest.fixture
async def engine(notify_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(notify_database, schema="notify", pool_size=2)
    async with engine.connect() as conn:
        started = (await conn.execute(text("SELECT clock_timestamp()"))).scalar_one()
    yield engine
    # The run's database is shared by every test: nothing this test left unsent may be sent by the next.
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE invitations SET status = 'cancelled', cancel_reason = 'test over'"
                " WHERE status IN ('waiting', 'scheduled', 'sending') AND created_at >= :t"
            ),
            {"t": started},
        )
        await conn.execute(
            text(
                "UPDATE notifications SET status = 'technical-failure', last_error = 'test over'"
                " WHERE status IN ('pending', 'sending') AND created_at >= :t"
            ),
            {"t": started},
        )
    await engine.dispose()


@pytest.fixture
async def stub() -> AsyncIterator[NotifyStub]:
    async with NotifyStub(API_KEY, seed=7) as running_stub:
        yield running_stub


@pytest.fixture
async def provider(stub: NotifyStub) -> AsyncIterator[GovUkNotifyProvider]:
    async with GovUkNotifyProvider(API_KEY, stub.url, timeout=2.0) as provider:
        yield provider


@pytest.fixture
def make_settings(notify_database: str, amqp_url: str) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": notify_database,
            "rabbitmq_url": amqp_url,
            "http_port": 0,
            "log_json": False,
            "outbox_poll_interval": 0.2,
            "dispatcher_poll_interval": 0.05,
            "callback_token": CALLBACK_TOKEN,
            "retry_base_seconds": 5.0,
            "rate_limit_enabled": False,
        }
        return Settings(**(values | overrides))

    return make


@pytest.fixture
async def observer(amqp_url: str) -> AsyncIterator[Observer]:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        yield await observe(await connection.channel(), "notify", batched=BATCHED)


@pytest.fixture
async def client(amqp_url: str) -> AsyncIterator[RabbitBroker]:
    broker = FailoverBroker(amqp_url, log_level=40)
    await broker.connect()
    try:
        yield broker
    finally:
        await broker.stop()


@pytest.fixture
async def start_app(
    make_settings: Callable[..., Settings], clock: FixedClock, provider: GovUkNotifyProvider, engine: AsyncEngine
) -> AsyncIterator[Callable[..., Any]]:
    """Start notify apps (each a replica) that stop when the test ends, before the engine's clean-up."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(*, with_provider: Provider | None = None, **overrides: Any) -> AsgiFastStream:
            app = create_app(make_settings(**overrides), clock=clock, provider=with_provider or provider)
            await stack.enter_async_context(running(app))
            return app

        yield start


@pytest.fixture
async def app(start_app: Callable[..., Any]) -> AsgiFastStream:
    started: AsgiFastStream = await start_app()
    return started


@pytest.fixture
def harness(client: RabbitBroker, engine: AsyncEngine, clock: FixedClock, observer: Observer) -> Harness:
    return Harness(client, engine, clock, observer)


@pytest.fixture
def support() -> Any:
    return notify_support
