"""How fast notify's dispatcher sends: invitations due now, to the GOV.UK Notify stub running as its own process.

`python services/notify/benchmarks/bench_dispatch.py [--children 10000] [--replicas 1] [--limit-per-minute N]`
against the local PostgreSQL and RabbitMQ (fresh database and vhost). Each child has one parent with an
email and a mobile, so every child is two sends. Prints sends/s measured by the stub, and, with
--limit-per-minute, the busiest 60 s the stub saw (the stub itself enforces the limit with 429s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack
from datetime import date, timedelta
from datetime import time as wall_time

import aio_pika
import httpx
import uvloop
from faststream.rabbit import RabbitBroker
from sqlalchemy import text

from contracts.cohort import (
    ChildrenUpserted,
    ChildSnapshot,
    InvitationRequest,
    InvitationTrigger,
    InviteToClinic,
    JoinReason,
    ParentContact,
)
from contracts.common import MAX_BATCH, Programme
from contracts.sessions import ClinicDate, ClinicDatesChanged, TeamSettings, TeamUpdated
from msgkit.clock import SystemClock, academic_year_of, london_today
from msgkit.db import create_engine
from msgkit.migrations import upgrade
from notify.app import create_app
from notify.config import Settings
from notify.migrate import MIGRATIONS
from notify_stub import make_api_key
from testkit import free_port, fresh_database, postgres_server, publish, rabbitmq_server, running

# Every replica on the real clock (the stale-attempt sweeper compares clocks across replicas), with
# an all-day sending window and a clinic five days away, so invitations are due at once at any hour.
CLOCK = SystemClock()
ALL_DAY = {"send_window_start": wall_time(0, 0), "send_window_end": wall_time(23, 59, 59)}


def clinic_day() -> date:
    return london_today(CLOCK) + timedelta(days=5)


def year() -> int:
    return academic_year_of(clinic_day())


API_KEY = make_api_key("bench")


async def sink(amqp_url: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange("notify.events", aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue("bench.notify_events", durable=True, arguments={"x-max-length": 10})
        await queue.bind(exchange, routing_key="#")


@contextlib.contextmanager
def replica_processes(count: int, settings: Settings) -> Iterator[None]:
    """More replicas, each its own process on the system clock (sends only inside the real sending window)."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        plain = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        env[f"NOTIFY_{name.upper()}"] = str(plain)
    procs = [subprocess.Popen([sys.executable, "-m", "notify", "serve"], env=env) for _ in range(count)]
    try:
        yield
    finally:
        for proc in procs:
            with open(f"/proc/{proc.pid}/status") as status:
                peak = next((line.split()[1] for line in status if line.startswith("VmHWM")), "?")
            print(f"replica process {proc.pid}: peak RSS {int(peak) // 1024 if peak != '?' else '?'} MB")
            proc.terminate()
            proc.wait(timeout=20)


def children(team: str, count: int) -> list[ChildSnapshot]:
    return [
        ChildSnapshot(
            child_id=uuid.uuid4(), team_ods=team, first_name="A", last_name="B", date_of_birth=date(2014, 1, 1),
            school_urn="888888",
            parents=[ParentContact(parent_id=uuid.uuid4(), email=f"p{n}@example.com", phone=f"07700{n % 1000000:06d}")],
        )
        for n in range(count)
    ]  # fmt: skip


async def run(database_url: str, amqp_url: str, stub_url: str, args: argparse.Namespace) -> None:
    limited = args.limit_per_minute is not None
    settings = Settings(
        database_url=database_url, rabbitmq_url=amqp_url, http_port=0, log_json=False, log_level="WARNING",
        provider=args.provider, govuk_api_key=API_KEY, govuk_base_url=stub_url, rate_limit_enabled=limited,
        rate_limit_per_minute=args.limit_per_minute or 3000, send_rate_per_second=args.send_rate,
        max_in_flight=args.in_flight, dispatcher_batch_size=args.batch,
    )  # fmt: skip
    team = "BENCH" + uuid.uuid4().hex[:4].upper()
    engine = create_engine(database_url, schema="notify", pool_size=1)
    clock = CLOCK
    async with AsyncExitStack() as stack:
        for _ in range(args.replicas):
            await stack.enter_async_context(running(create_app(settings, clock=clock)))
        stack.enter_context(replica_processes(args.processes, settings))
        client = RabbitBroker(amqp_url, log_level=40)
        await client.connect()
        await sink(amqp_url)
        await publish(
            client, TeamUpdated(team=TeamSettings(ods_code=team, name="B", email="b@example.com", phone="1", **ALL_DAY))
        )
        day = ClinicDate(on=clinic_day())
        await publish(
            client,
            ClinicDatesChanged(
                session_id=uuid.uuid4(), team_ods=team, programmes=[Programme.FLU], academic_year=year(), dates=[day],
                first_upcoming_date=day.on, last_date=day.on,
            ),
        )  # fmt: skip
        kids = children(team, args.children)
        for start in range(0, len(kids), MAX_BATCH):
            await publish(client, ChildrenUpserted(children=kids[start : start + MAX_BATCH]))
        while True:
            async with engine.connect() as conn:
                if (await conn.execute(text("SELECT count(*) FROM children"))).scalar_one() >= args.children:
                    break
            await asyncio.sleep(0.2)
        started = time.perf_counter()
        for start in range(0, len(kids), MAX_BATCH):
            requests = [
                InvitationRequest(
                    child_id=k.child_id, team_ods=team, programmes=[Programme.FLU], academic_year=year(),
                    trigger=InvitationTrigger.AUTOMATIC, reason=JoinReason.UNKNOWN_SCHOOL,
                )
                for k in kids[start : start + MAX_BATCH]
            ]  # fmt: skip
            await publish(client, InviteToClinic(invitations=requests))
        total = 2 * args.children
        while True:
            async with engine.connect() as conn:
                sent = (
                    await conn.execute(text("SELECT count(*) FROM notifications WHERE status = 'sent'"))
                ).scalar_one()
            if sent >= total:
                break
            await asyncio.sleep(0.2)
        elapsed = time.perf_counter() - started
        async with httpx.AsyncClient() as http:
            stats = (await http.get(f"{stub_url}/_control/stats")).json()
        per_second = [s["accepted"] for s in stats["per_second"]]
        busy = [s["second"] for s in stats["per_second"] if s["accepted"]]
        sending = busy[-1] - busy[0] + 1 if busy else 0
        print(f"{total} sends ({args.replicas} replica(s)) in {elapsed:.2f}s: {total / elapsed:,.0f}/s end to end")
        print(f"stub: {stats['totals']}; {sum(per_second) / max(sending, 1):,.0f}/s from first to last send")
        print(f"stub: best second {max(per_second)}, best 60 s {stats['max_accepted_per_60s']}")
        await client.stop()
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=10_000)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--processes", type=int, default=0, help="extra replicas as `python -m notify serve`")
    parser.add_argument("--limit-per-minute", type=int)
    parser.add_argument("--send-rate", type=float, default=45.0)
    parser.add_argument("--in-flight", type=int, default=100)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--provider", default="govuk_notify", choices=["govuk_notify", "log"])
    args = parser.parse_args()
    port = free_port()
    command = [sys.executable, "-m", "notify_stub", "--port", str(port), "--api-key", API_KEY]
    if args.limit_per_minute:
        command += ["--rate-limit-per-minute", str(args.limit_per_minute)]
    stub = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        with ExitStack() as stack:
            server = stack.enter_context(postgres_server(stack))
            database_url = stack.enter_context(fresh_database(server))
            upgrade(MIGRATIONS, url=database_url, schema="notify")
            rabbit = stack.enter_context(rabbitmq_server(stack))
            amqp_url = stack.enter_context(rabbit.fresh_vhost())
            with asyncio.Runner(loop_factory=None if os.environ.get("NO_UVLOOP") else uvloop.new_event_loop) as runner:
                runner.run(run(database_url, amqp_url, f"http://127.0.0.1:{port}", args))
    finally:
        stub.terminate()
        stub.wait(timeout=10)


if __name__ == "__main__":
    main()
