"""The `clinics` command for operators: exit codes, one-line errors, and dead letters inspected and replayed."""

from __future__ import annotations

import uuid
from pathlib import Path

import aio_pika
import pytest
from faststream.rabbit import RabbitBroker

from clinics_admin.processes import ServiceProcess
from contracts import cohort, consent, topology
from contracts.common import Programme
from msgkit.clock import academic_year_of
from msgkit.deadletter import REASON_HEADER
from testkit import RabbitServer, admin_user, eventually, free_port

from .cli_support import Cli
from .support import ask, child, child_id, csv_text
from .test_clinic_flow import create_team, new_team, seed, today

pytestmark = pytest.mark.e2e


@pytest.fixture
def cli(e2e_amqp_url: str, stack: dict[str, ServiceProcess]) -> Cli:
    return Cli(e2e_amqp_url)


async def test_a_refusal_exits_1_with_the_services_reason_in_one_line(cli: Cli) -> None:
    missing = (await cli("session", "show", uuid.uuid4())).failed(1)
    (line,) = missing.error_lines
    assert line.startswith("error: ") and "(not_found)" in line
    as_json = (await cli("session", "show", uuid.uuid4(), json=True)).failed(1)
    assert as_json.json()["error"]["code"] == "not_found"


async def test_bad_usage_exits_2(cli: Cli) -> None:
    bad_team = await cli(
        "team", "set", "--ods", "not an ods", "--name", "x", "--email", "a@example.com", "--phone", "1"
    )
    (line,) = bad_team.failed(2).error_lines
    assert line.startswith("error: invalid input: ods_code")
    (await cli("session", "clinic-dates", "--team", "RYG", "-p", "flu", "--date", "next tuesday")).failed(2)
    (await cli("session", "show", "not-a-uuid")).failed(2)
    (await cli("dead-letters", "show", "no.such.queue")).failed(2)


async def test_an_unreachable_broker_exits_3_with_one_line(cli: Cli) -> None:
    nowhere = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    for args in (("session", "show", uuid.uuid4()), ("dead-letters", "list"), ("demo",)):
        result = (await cli(*args, url=nowhere)).failed(3)
        (line,) = result.error_lines
        assert line.startswith("error: cannot reach RabbitMQ at amqp://127.0.0.1:"), line
        assert "guest" not in line, "the password is not printed"


async def test_services_not_running_exit_3_and_a_silent_service_exits_4(rabbit: RabbitServer, cli: Cli) -> None:
    with rabbit.fresh_vhost() as empty:
        (line,) = (await cli("session", "show", uuid.uuid4(), url=empty)).failed(3).error_lines
        assert "is the sessions service running" in line
        # The requests exchange and queue exist but nothing consumes them: the request is never answered.
        connection = await aio_pika.connect(empty)
        async with connection:
            channel = await connection.channel()
            route = topology.request_route(cohort.GetActivityLog)
            exchange = await channel.declare_exchange(route.exchange, aio_pika.ExchangeType.DIRECT, durable=True)
            queue = await channel.declare_queue(f"silent-{uuid.uuid4().hex[:8]}", exclusive=True)
            await queue.bind(exchange, routing_key=route.routing_key)
            result = await cli("--timeout", "1", "children", "activity", uuid.uuid4(), url=empty)
        (line,) = result.failed(4).error_lines
        assert "no reply to GetActivityLog within 1s" in line


async def test_json_output_parses_for_reads_and_lists(cli: Cli) -> None:
    ods = new_team()
    listed = (await cli("children", "list", "--team", ods, "--year", academic_year_of(today()), json=True)).ok()
    assert listed.json() == {
        "total": 0, "page": 1, "page_size": 50, "children": [], "after": None, "next_cursor": None
    }  # fmt: skip
    assert isinstance((await cli("dead-letters", "list", json=True)).ok().json(), list)


async def _publish(url: str, queue: str, body: bytes, **properties: object) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        properties.setdefault("user_id", admin_user())  # an operator's letter: replayed, the queue accepts it
        message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, **properties)  # type: ignore[arg-type]
        await channel.default_exchange.publish(message, routing_key=queue, mandatory=True)


async def _dead_letters(cli: Cli, queue: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = (await cli("dead-letters", "show", queue, "--body", json=True)).ok().json()
    return rows


async def test_a_poison_message_is_listed_and_shown_with_its_reason(cli: Cli, e2e_amqp_url: str) -> None:
    poison = str(uuid.uuid4())
    queue = topology.binding("cohort", topology.CONSUMES["cohort"][0]).queue  # cohort.team_updated
    await _publish(e2e_amqp_url, queue, b"{not json", message_id=poison, content_type="application/json")

    async def dead_lettered() -> list[dict[str, str]]:
        return [m for m in await _dead_letters(cli, f"{queue}.dlq") if m["message_id"] == poison]

    (shown,) = await eventually(dead_lettered, timeout=30, what="the poison message in the dead-letter queue")
    assert shown["reason"] and shown["body"] == "{not json"
    listed = (await cli("dead-letters", "list", "--service", "cohort", json=True)).ok().json()
    assert any(row["queue"] == f"{queue}.dlq" and row["messages"] >= 1 for row in listed)
    table = (await cli("dead-letters", "list")).ok().stdout
    assert f"{queue}.dlq" in table
    still_there = (await cli("dead-letters", "show", queue)).ok().stdout  # showing does not remove
    assert poison in still_there


async def test_a_dead_letter_replayed_after_the_fix_is_handled(
    cli: Cli, client: RabbitBroker, e2e_amqp_url: str, tmp_path: Path
) -> None:
    ods = new_team()
    await create_team(client, ods)
    row = child(seed(), "999999")
    cohort_file = tmp_path / "cohort.csv"
    cohort_file.write_text(csv_text([row]))
    (await cli("import-cohort", cohort_file, "--team", ods)).ok()
    child_ = await child_id(client, ods, row)
    # As if cohort had dead-lettered this event while a bug was live: the message itself is sound.
    event = consent.ConsentRequested(
        child_id=child_, team_ods=ods, programmes=[Programme.FLU], academic_year=academic_year_of(today()),
        requested_by="Nurse Replay",
    )  # fmt: skip
    binding = topology.binding("cohort", consent.ConsentRequested)
    headers = {REASON_HEADER: "RuntimeError: simulated outage", "x-original-exchange": binding.exchange,
               "x-original-routing-key": binding.routing_key}  # fmt: skip
    await _publish(
        e2e_amqp_url, binding.dead_letter_queue, event.model_dump_json().encode(), message_id=str(event.message_id),
        content_type="application/json", headers=headers, type="ConsentRequested",
    )  # fmt: skip
    shown = [m for m in await _dead_letters(cli, binding.dead_letter_queue) if m["message_id"] == str(event.message_id)]
    assert shown and shown[0]["reason"] == "RuntimeError: simulated outage"

    replayed = (await cli("dead-letters", "replay", binding.dead_letter_queue, json=True)).ok().json()
    assert str(event.message_id) in [m["message_id"] for m in replayed["replayed"]]
    assert replayed["to"] == binding.queue

    async def logged() -> bool:
        entries = (await ask(client, cohort.GetActivityLog(child_id=child_)))["entries"]
        return any(e["kind"] == "consent_requested" and "Nurse Replay" in e["text"] for e in entries)

    await eventually(logged, timeout=30, what="the replayed event in the activity log")
    left = [m for m in await _dead_letters(cli, binding.dead_letter_queue) if m["message_id"] == str(event.message_id)]
    assert not left
