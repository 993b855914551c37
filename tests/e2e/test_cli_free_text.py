"""Free text cannot control an operator's terminal: refused where it can never be valid, escaped when shown."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import aio_pika
import asyncpg
import pytest
from faststream.rabbit import RabbitBroker

from clinics_admin.processes import ServiceProcess
from contracts import cohort, topology
from testkit import admin_user, eventually

from .cli_support import Cli, Result
from .support import child, child_id, csv_text
from .test_clinic_flow import create_team, new_team, seed

pytestmark = pytest.mark.e2e

# Clears the screen, then sets the terminal's title; U+202E would show what follows reversed.
ESC_NAME = "Nurse \x1b[2J\x1b]0;pwned\x07\u202eyoJ"
SHOWN = "Nurse \\x1b[2J\\x1b]0;pwned\\x07\\u202eyoJ"


@pytest.fixture
def cli(e2e_amqp_url: str, stack: dict[str, ServiceProcess]) -> Cli:
    return Cli(e2e_amqp_url)


def _obeys_nothing(result: Result) -> None:
    printed = result.stdout + result.stderr
    assert not [c for c in printed if c != "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F)], printed
    assert "\u202e" not in printed


async def _imported_child(cli: Cli, client: RabbitBroker, ods: str, tmp_path: Path) -> uuid.UUID:
    await create_team(client, ods)
    row = child(seed(), "999999")
    (tmp_path / "cohort.csv").write_text(csv_text([row]))
    (await cli("import-cohort", tmp_path / "cohort.csv", "--team", ods)).ok()
    return await child_id(client, ods, row)


async def test_a_staff_name_stored_before_the_check_is_shown_escaped(
    cli: Cli, client: RabbitBroker, e2e_database_url: str, tmp_path: Path
) -> None:
    child_ = await _imported_child(cli, client, new_team(), tmp_path)
    # As the activity log kept a consent request from before names were checked: written as cohort wrote it.
    details = {"programmes": ["flu"], "requested_by": ESC_NAME}
    conn = await asyncpg.connect(e2e_database_url)
    try:
        await conn.execute(
            "INSERT INTO cohort.activity_log (child_id, source_key, occurred_at, kind, details)"
            " VALUES ($1, $2, now(), 'consent_requested', $3::jsonb)",
            child_, uuid.uuid4(), json.dumps(details),
        )  # fmt: skip
    finally:
        await conn.close()

    shown = (await cli("children", "activity", child_)).ok()
    _obeys_nothing(shown)
    assert f"Consent requested for Flu by {SHOWN}" in shown.stdout
    as_json = (await cli("children", "activity", child_, json=True)).ok()
    _obeys_nothing(as_json)
    assert f"Consent requested for Flu by {ESC_NAME}" in [e["text"] for e in as_json.json()["entries"]]


async def test_a_staff_name_with_a_control_character_is_refused_before_it_is_sent(cli: Cli) -> None:
    result = await cli("consent", "request", uuid.uuid4(), "--team", "RYG", "-p", "flu", "--by", ESC_NAME)
    (line,) = result.failed(2).error_lines
    assert line == "error: invalid input: requested_by: must not contain control characters (U+001B at position 6)"
    _obeys_nothing(result)


async def test_a_name_with_a_control_character_is_dead_lettered_with_its_reason(cli: Cli, e2e_amqp_url: str) -> None:
    # Past the CLI, as another producer might send it: the consumer refuses it at the contract.
    upserted = cohort.ChildrenUpserted(children=[cohort.ChildSnapshot(
        child_id=uuid.uuid4(), team_ods=new_team(), first_name="Ada", last_name="Lovelace",
        date_of_birth="2015-01-01", school_urn="999999",
    )])  # fmt: skip
    body = json.loads(upserted.model_dump_json())
    body["children"][0]["first_name"] = "Ada\x1b[2J"
    binding = topology.binding("consent", cohort.ChildrenUpserted)
    connection = await aio_pika.connect(e2e_amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        message = aio_pika.Message(
            json.dumps(body).encode(),
            message_id=str(upserted.message_id),
            content_type="application/json",
            user_id=admin_user(),
        )
        await channel.default_exchange.publish(message, routing_key=binding.queue, mandatory=True)

    async def dead_lettered() -> list[dict[str, str]]:
        letters = (await cli("dead-letters", "show", binding.dead_letter_queue, json=True)).ok().json()
        return [m for m in letters if m["message_id"] == str(upserted.message_id)]

    (letter,) = await eventually(dead_lettered, timeout=30, what="the refused message in the dead-letter queue")
    assert "children.0.first_name: must not contain control characters (U+001B at position 3)" in letter["reason"]
    table = (await cli("dead-letters", "show", binding.dead_letter_queue, "--body")).ok()
    _obeys_nothing(table)
    assert "Ada\\u001b[2J" in table.stdout  # the body's own JSON escape, shown as written


async def test_stored_text_in_any_reply_is_shown_escaped(cli: Cli) -> None:
    ods = new_team()
    result = await cli(
        "team", "set", "--ods", ods, "--name", f"SAIS {ESC_NAME}", "--email", "sais@example.com", "--phone", "0113"
    )
    _obeys_nothing(result.ok())
    assert f"SAIS {SHOWN}" in result.stdout
