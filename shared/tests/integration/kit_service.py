"""A minimal service built only from the kit, standing in for a real one in the kit's own tests."""

from __future__ import annotations

import uuid

from faststream.asgi import AsgiFastStream
from sqlalchemy import Column, MetaData, String, Table, Uuid, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.envelope import Reply
from contracts.sessions import GetSession, TeamUpdated
from msgkit.broker import make_router, subscription
from msgkit.clock import SystemClock
from msgkit.deadletter import PermanentError
from msgkit.runtime import Runtime, build_app
from msgkit.settings import ServiceSettings
from msgkit.tables import messaging_tables
from msgkit.uow import UnitOfWork
from msgkit.wiring import UoW, Wiring

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
