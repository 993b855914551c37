"""How fast notify schedules invitations: N InviteToClinic commands of 1,000 requests each, end to end.

`python services/notify/benchmarks/bench_invitations.py [--children 100000]` against the local
PostgreSQL and RabbitMQ (a fresh database and vhost, removed afterwards). Prints invitations/s from
the first publish to the last InvitationsScheduled committed.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, date, datetime

import aio_pika
from faststream.rabbit import RabbitBroker
from sqlalchemy import text

from contracts.cohort import InvitationRequest, InvitationTrigger, InviteToClinic, JoinReason
from contracts.common import MAX_BATCH, Programme
from contracts.sessions import ClinicDate, ClinicDatesChanged, TeamSettings, TeamUpdated
from msgkit.clock import FixedClock
from msgkit.db import create_engine
from msgkit.migrations import upgrade
from notify.app import create_app
from notify.config import Settings
from notify.migrate import MIGRATIONS
from testkit import fresh_database, postgres_server, publish, rabbitmq_server, running

NOW = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)


async def sink(amqp_url: str) -> None:
    """What cohort would bind: a queue for notify's events, so the outbox relay's mandatory publishes route."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange("notify.events", aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue("bench.notify_events", durable=True, arguments={"x-max-length": 10})
        await queue.bind(exchange, routing_key="#")


async def run(database_url: str, amqp_url: str, children: int) -> None:
    settings = Settings(
        database_url=database_url, rabbitmq_url=amqp_url, http_port=0, log_json=False, log_level="WARNING"
    )
    team = "BENCH" + uuid.uuid4().hex[:4].upper()
    engine = create_engine(database_url, schema="notify", pool_size=1)
    async with running(create_app(settings, clock=FixedClock(NOW))):
        client = RabbitBroker(amqp_url, log_level=40)
        await client.connect()
        await sink(amqp_url)
        await publish(client, TeamUpdated(team=TeamSettings(ods_code=team, name="B", email="b@example.com", phone="1")))
        dates = [ClinicDate(on=date(2026, 6, 1))]
        await publish(
            client,
            ClinicDatesChanged(
                session_id=uuid.uuid4(), team_ods=team, programmes=[Programme.FLU], academic_year=2025, dates=dates,
                first_upcoming_date=dates[0].on, last_date=dates[0].on,
            ),
        )  # fmt: skip
        await asyncio.sleep(1)
        commands = [
            InviteToClinic(
                invitations=[
                    InvitationRequest(
                        child_id=uuid.uuid4(), team_ods=team, programmes=[Programme.FLU, Programme.HPV],
                        academic_year=2025, trigger=InvitationTrigger.AUTOMATIC, reason=JoinReason.UNKNOWN_SCHOOL,
                    )
                    for _ in range(min(MAX_BATCH, children - start))
                ]
            )
            for start in range(0, children, MAX_BATCH)
        ]  # fmt: skip
        started = time.perf_counter()
        for command in commands:
            await publish(client, command)
        while True:
            async with engine.connect() as conn:
                done = (await conn.execute(text("SELECT count(*) FROM invitations"))).scalar_one()
            if done >= children:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        print(f"{children} invitations scheduled in {elapsed:.2f}s: {children / elapsed:,.0f}/s")
        await client.stop()
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=100_000)
    args = parser.parse_args()
    with ExitStack() as stack:
        server = stack.enter_context(postgres_server(stack))
        database_url = stack.enter_context(fresh_database(server))
        upgrade(MIGRATIONS, url=database_url, schema="notify")
        rabbit = stack.enter_context(rabbitmq_server(stack))
        amqp_url = stack.enter_context(rabbit.fresh_vhost())
        asyncio.run(run(database_url, amqp_url, args.children))


if __name__ == "__main__":
    main()
