"""The running services use their own least-privilege identities, and those identities are confined.

Each service process connects to PostgreSQL as its own role and to RabbitMQ as its own user (set up by
clinics_admin.bootstrap). With the very credentials a running service has, another service's tables cannot be
read and another service's events cannot be published; notify's callback route wants its token.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import aio_pika
import asyncpg
import httpx
import pytest
from aiormq.exceptions import ChannelAccessRefused

from clinics_admin.bootstrap import published_exchanges
from clinics_admin.processes import ServiceProcess
from contracts import topology
from testkit.stub import CALLBACK_TOKEN

pytestmark = pytest.mark.e2e


def database_url_of(process: ServiceProcess) -> str:
    return process.env[f"{process.service.upper()}_DATABASE_URL"]


def amqp_url_of(process: ServiceProcess) -> str:
    return process.env[f"{process.service.upper()}_RABBITMQ_URL"]


async def test_every_service_is_connected_as_its_own_database_role(
    stack: dict[str, ServiceProcess], e2e_database_url: str
) -> None:
    conn = await asyncpg.connect(e2e_database_url)
    try:
        rows = await conn.fetch(
            "SELECT DISTINCT usename, application_name FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = ANY($1::text[])",
            list(stack),
        )
    finally:
        await conn.close()
    assert {(r["application_name"], r["usename"]) for r in rows} == {(s, s) for s in stack}


@pytest.mark.parametrize("service", ["sessions", "cohort", "consent", "notify"])
async def test_a_running_services_credentials_cannot_read_another_services_tables(
    stack: dict[str, ServiceProcess], service: str
) -> None:
    conn = await asyncpg.connect(database_url_of(stack[service]))
    try:
        assert await conn.fetchval("SELECT current_user") == service
        await conn.fetchval(f'SELECT count(*) FROM "{service}".processed_messages')
        for other in stack:
            if other != service:
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.fetch(f'SELECT * FROM "{other}".processed_messages LIMIT 1')
    finally:
        await conn.close()


@pytest.mark.parametrize("service", ["sessions", "cohort", "consent", "notify"])
async def test_a_running_services_broker_user_cannot_publish_another_services_events(
    stack: dict[str, ServiceProcess], service: str
) -> None:
    url = amqp_url_of(stack[service])
    assert urlsplit(url).username == service
    assert stack[service].env[f"{service.upper()}_DECLARE_TOPOLOGY"] == "false"
    connection = await aio_pika.connect(url)
    async with connection:
        for other in stack:
            if other == service:
                continue
            for exchange in sorted(published_exchanges(other)):
                channel = await connection.channel(publisher_confirms=True)
                target = await channel.get_exchange(exchange, ensure=False)
                with pytest.raises(ChannelAccessRefused):
                    await target.publish(aio_pika.Message(b"{}"), routing_key=f"{other}.forged", mandatory=False)
            queue = topology.bindings(other)[0].queue
            channel = await connection.channel()
            with pytest.raises(ChannelAccessRefused):
                await (await channel.get_queue(queue, ensure=False)).get(fail=False)


async def test_the_notify_callback_route_rejects_a_missing_or_wrong_token(stack: dict[str, ServiceProcess]) -> None:
    url = f"{stack['notify'].base_url}/notifications/status"
    body = {"id": str(uuid.uuid4()), "reference": str(uuid.uuid4()), "status": "delivered"}
    async with httpx.AsyncClient(timeout=10) as http:
        missing = await http.post(url, json=body)
        wrong = await http.post(url, json=body, headers={"Authorization": "Bearer not-the-token"})
        bare = await http.post(url, json=body, headers={"Authorization": CALLBACK_TOKEN})
        right = await http.post(url, json=body, headers={"Authorization": f"Bearer {CALLBACK_TOKEN}"})
    assert (missing.status_code, wrong.status_code, bare.status_code) == (401, 401, 401)
    assert right.status_code == 404, right.text  # authorised; no notification has that id
