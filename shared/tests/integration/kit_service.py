"""A minimal service built only from the kit, standing in for a real one in the kit's own tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from faststream.asgi import AsgiFastStream
from sqlalchemy import Column, MetaData, String, Table, Uuid, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.envelope import Message, Reply
from contracts.sessions import GetSession, TeamUpdated
from msgkit.broker import make_router, subscription
from msgkit.clock import SystemClock
from msgkit.db import create_engine
from msgkit.deadletter import PermanentError
from msgkit.runtime import Runtime, build_app
from msgkit.settings import ServiceSettings
from msgkit.tables import messaging_tables
from msgkit.uow import UnitOfWork
from msgkit.wiring import UoW, Wiring
from testkit import running

metadata = MetaData()
tables = messaging_tables(metadata)
seen = Table("seen_teams", metadata, Column("message_id", Uuid, primary_key=True), Column("ods", String(10)))

notify_router = make_router()
sessions_router = make_router()


@notify_router.subscriber(**subscription("notify", TeamUpdated))
async def on_team_updated(event: TeamUpdated, uow: UoW[UnitOfWork]) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        if event.team.name == "explode":
            raise RuntimeError("transient failure for the test")
        await uow.session.execute(insert(seen).values(message_id=event.message_id, ods=event.team.ods_code))
        await uow.commit()


@sessions_router.subscriber(**subscription("sessions", GetSession))
async def on_get_session(query: GetSession) -> Reply:
    if query.session_id.int == 0:
        raise PermanentError("no session with that id", code="not_found")
    return Reply.success({"session_id": str(query.session_id)})


def make_app(database_url: str, amqp_url: str, *, service: str, schema: str) -> tuple[AsgiFastStream, Runtime]:
    settings = ServiceSettings(
        service_name=service,
        database_url=database_url,
        rabbitmq_url=amqp_url,
        db_schema=schema,
        http_port=0,
        log_json=False,
        outbox_poll_interval=0.5,
    )
    runtime = Runtime(settings, tables)
    wiring = Wiring(new_uow=runtime.uow_factory(UnitOfWork), clock=SystemClock())
    app = build_app(runtime, wiring, [notify_router] if service == "notify" else [sessions_router])
    return app, runtime


async def create_schema(engine: AsyncEngine, schema: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await conn.execute(text(f'SET search_path TO "{schema}"'))
        await conn.run_sync(metadata.create_all)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


@asynccontextmanager
async def running_pair(database_url: str, amqp_url: str, *, prefix: str) -> AsyncIterator[tuple[Runtime, Runtime]]:
    """A publishing service ("sessions") and a consuming one ("notify"), each in a schema of its own
    (`<prefix>_s_…`, `<prefix>_n_…`), started against real servers for the length of the block."""
    suffix = uuid.uuid4().hex[:6]
    producer_app, producer = make_app(database_url, amqp_url, service="sessions", schema=f"{prefix}_s_{suffix}")
    consumer_app, consumer = make_app(database_url, amqp_url, service="notify", schema=f"{prefix}_n_{suffix}")
    engine = create_engine(database_url, schema="public")
    await create_schema(engine, producer.settings.schema_name)
    await create_schema(engine, consumer.settings.schema_name)
    await engine.dispose()
    async with running(producer_app), running(consumer_app):
        yield producer, consumer


async def publish(runtime: Runtime, *messages: Message, commit: bool = True) -> None:
    """Messages into the runtime's outbox, as a use case would (its relay publishes them once committed)."""
    uow = UnitOfWork(runtime.sessions, runtime.tables, consumer=runtime.service, on_commit=runtime.wake_relay)
    async with uow:
        uow.publish(*messages)
        if commit:
            await uow.commit()


async def seen_count(runtime: Runtime) -> int:
    """How many TeamUpdated the consumer has recorded."""
    async with runtime.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(seen))).scalar_one())
