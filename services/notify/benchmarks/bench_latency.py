"""Latency of one invitation due now: InviteToClinic published -> the stub receives the first send.

`python services/notify/benchmarks/bench_latency.py [--samples 50]` against the local PostgreSQL and
RabbitMQ (fresh database and vhost); the stub runs in-process and stamps each request on arrival.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from contextlib import ExitStack

from bench_dispatch import ALL_DAY, API_KEY, CLOCK, children, clinic_day, sink, year  # type: ignore[import-not-found]
from faststream.rabbit import RabbitBroker

from contracts.cohort import ChildrenUpserted, InvitationRequest, InvitationTrigger, InviteToClinic, JoinReason
from contracts.common import Programme
from contracts.sessions import ClinicDate, ClinicDatesChanged, TeamSettings, TeamUpdated
from msgkit.migrations import upgrade
from notify.app import create_app
from notify.config import Settings
from notify.migrate import MIGRATIONS
from notify.providers import GovUkNotifyProvider
from notify_stub import NotifyStub
from testkit import eventually, fresh_database, postgres_server, publish, rabbitmq_server, running


async def sent_more(stub: NotifyStub, count: int) -> bool:
    return len(stub.sent) >= count


async def run(database_url: str, amqp_url: str, samples: int) -> None:
    settings = Settings(
        database_url=database_url, rabbitmq_url=amqp_url, http_port=0, log_json=False, log_level="WARNING"
    )
    team = "LAT" + uuid.uuid4().hex[:4].upper()
    async with (
        NotifyStub(API_KEY) as stub,
        GovUkNotifyProvider(API_KEY, stub.url) as provider,
        running(create_app(settings, clock=CLOCK, provider=provider)),
    ):
        client = RabbitBroker(amqp_url, log_level=40)
        await client.connect()
        await sink(amqp_url)
        await publish(
            client,
            TeamUpdated(team=TeamSettings(ods_code=team, name="L", email="l@example.com", phone="1", **ALL_DAY)),
        )
        day = ClinicDate(on=clinic_day())
        await publish(
            client,
            ClinicDatesChanged(
                session_id=uuid.uuid4(), team_ods=team, programmes=[Programme.FLU], academic_year=year(),
                dates=[day], first_upcoming_date=day.on, last_date=day.on,
            ),
        )  # fmt: skip
        kids = children(team, samples)
        await publish(client, ChildrenUpserted(children=kids))
        await asyncio.sleep(1.0)
        latencies = []
        for kid in kids:
            seen = len(stub.sent)
            request = InvitationRequest(
                child_id=kid.child_id, team_ods=team, programmes=[Programme.FLU], academic_year=year(),
                trigger=InvitationTrigger.AUTOMATIC, reason=JoinReason.UNKNOWN_SCHOOL,
            )  # fmt: skip
            started = time.time()
            await publish(client, InviteToClinic(invitations=[request]))
            # The stub stamps each request on arrival, so how often this polls does not matter.
            await eventually(lambda n=seen: sent_more(stub, n + 1), timeout=5, what="the first send")
            latencies.append((stub.sent[seen].received_at.timestamp() - started) * 1000)
            await eventually(lambda n=seen: sent_more(stub, n + 2), timeout=5, what="the child's second send")
        await client.stop()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"{samples} invitations due now -> first send at the stub: p50 {statistics.median(latencies):.1f} ms, "
          f"p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args()
    with ExitStack() as stack:
        server = stack.enter_context(postgres_server(stack))
        database_url = stack.enter_context(fresh_database(server))
        upgrade(MIGRATIONS, url=database_url, schema="notify")
        rabbit = stack.enter_context(rabbitmq_server(stack))
        amqp_url = stack.enter_context(rabbit.fresh_vhost())
        asyncio.run(run(database_url, amqp_url, args.samples))


if __name__ == "__main__":
    main()
