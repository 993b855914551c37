"""No personal data in any log: a whole flow with recognisable names, emails, phones and NHS numbers.

Children are imported, invited (email and SMS through the GOV.UK Notify stub, with delivery receipts),
sent a consent request, and have consent recorded; bad messages and requests carrying the same personal
data are sent too, since an error is where a body most easily leaks into a log. Then every log file of
the run (each service's and the stub's) is searched for every piece of that data.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import aio_pika
import pytest
from faststream.rabbit import RabbitBroker

from clinics_admin.processes import ServiceProcess
from contracts import cohort, consent, topology
from contracts.common import Programme
from msgkit import rpc
from msgkit.clock import academic_year_of
from testkit import admin_user, eventually
from testkit.data import HEADER, nhs_number
from testkit.stub import StubProcess

from .support import ChildRow, ask, child_id, import_rows
from .test_clinic_flow import clinic_on, create_team, new_team, seed, today, wait_for_activity

pytestmark = pytest.mark.e2e


def recognisable_children(n: int) -> list[ChildRow]:
    tag = uuid.uuid4().hex[:6]
    rows = []
    for i, (first, last) in enumerate([("Quillonella", "Featherstonehaugh"), ("Zebedaiah", "Marchbanks-Ozymandias")]):
        rows.append(
            ChildRow(
                first_name=first,
                last_name=f"{last}{tag}",
                urn="999999",
                nhs=nhs_number(n + i),
                parent_email=f"marigold.{tag}{i}@pii-probe.example.org",
                parent_phone=f"07700 9{(n + i) % 100000:05d}",
            )
        )
    return rows


def personal_data(rows: list[ChildRow]) -> set[str]:
    """Every string that would give a child or parent away, in the forms they could be logged in."""
    found: set[str] = set()
    for row in rows:
        assert row.parent_email and row.parent_phone
        phone = row.parent_phone.replace(" ", "")
        found |= {row.first_name, row.last_name, row.nhs, row.parent_email, phone, row.parent_phone}
        found |= {f"{row.nhs[:3]} {row.nhs[3:6]} {row.nhs[6:]}", "+44" + phone[1:]}
    return found


async def send_bad_messages_carrying(client: RabbitBroker, amqp_url: str, rows: list[ChildRow], ods: str) -> str:
    """A ChildrenUpserted whose names have the wrong type, and requests with one bad field beside personal data."""
    row = rows[0]
    snapshot = {
        "child_id": str(uuid.uuid4()), "team_ods": ods, "nhs_number": row.nhs, "first_name": [row.first_name],
        "last_name": {"name": row.last_name}, "date_of_birth": "2015-02-30", "school_urn": "999999",
        "parents": [{"parent_id": "not-a-uuid", "name": "Pat", "email": row.parent_email, "phone": row.parent_phone}],
    }  # fmt: skip
    message_id = str(uuid.uuid4())
    body = json.dumps({"message_id": message_id, "children": [snapshot]}).encode()
    route = topology.route_for(cohort.ChildrenUpserted)
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        target = await channel.get_exchange(route.exchange, ensure=False)
        message = aio_pika.Message(body, content_type="application/json", message_id=message_id, user_id=admin_user())
        await target.publish(message, routing_key=route.routing_key, mandatory=True)
    bad_find = json.dumps({"team_ods": "not an ods code", "nhs_number": row.nhs, "last_name": row.last_name})
    for raw in (bad_find.encode(), f'{{"last_name": "{row.last_name}", "nhs_number": {row.nhs}'.encode()):
        route = topology.request_route(cohort.FindChildren)
        response = await client.request(raw, exchange=route.exchange, routing_key=route.routing_key, timeout=30)
        assert b'"ok":false' in response.body.replace(b" ", b"")
    return message_id


async def test_a_whole_flow_leaves_no_personal_data_in_any_log(
    client: RabbitBroker,
    notify_stub: StubProcess,
    stack: dict[str, ServiceProcess],
    e2e_log_dir: Path,
    e2e_amqp_url: str,
) -> None:
    ods = new_team()
    await create_team(client, ods)
    first_date = today() + timedelta(days=7)
    await clinic_on(client, ods, first_date)
    rows = recognisable_children(seed())
    errors, reply = await import_rows(
        client, ods, HEADER, [r.cells() for r in rows], academic_year=academic_year_of(first_date)
    )
    assert not errors and reply.ok, (errors, reply.error)
    ids = [await child_id(client, ods, r) for r in rows]

    # Invitations by email and SMS, delivered (the stub calls notify back), recorded in the activity log.
    for child in ids:
        await wait_for_activity(client, child, "notification_sent", "notification_delivered", timeout=60)
    assert rows[0].parent_email is not None
    assert await notify_stub.sent_to(rows[0].parent_email), "the stub saw the invitation email"

    # Consent: a request to one child's parents, a response recorded for the other.
    year = academic_year_of(first_date)
    await ask(
        client,
        consent.SendConsentRequest(
            child_id=ids[0], team_ods=ods, programmes=[Programme.FLU], requested_by="Nurse", academic_year=year
        ),
    )
    await ask(
        client,
        consent.RecordConsent(
            child_id=ids[1], team_ods=ods, programme=Programme.FLU, response=consent.ConsentResponse.GIVEN,
            route=consent.ConsentRoute.PHONE, recorded_by="Nurse", academic_year=year,
        ),
    )  # fmt: skip
    await wait_for_activity(client, ids[0], "consent_requested", timeout=60)
    await wait_for_activity(client, ids[1], "consent_recorded", timeout=60)
    for r in rows:
        found = (await ask(client, cohort.FindChildren(team_ods=ods, last_name=r.last_name)))["children"]
        assert len(found) == 1

    bad = await send_bad_messages_carrying(client, e2e_amqp_url, rows, ods)
    await eventually(lambda: dead_lettered_everywhere(e2e_amqp_url, bad), timeout=60, what="the bad message handled")
    reply = await rpc.request(client, cohort.GetActivityLog(child_id=ids[0]), timeout=30)
    assert reply.ok

    leaks = find_in_logs(e2e_log_dir, personal_data(rows), expected={f"{s}.log" for s in stack} | {"notify-stub.log"})
    assert not leaks, "personal data in the logs:\n" + "\n".join(leaks[:20])


def find_in_logs(log_dir: Path, values: set[str], *, expected: set[str]) -> list[str]:
    logs = sorted(p for p in log_dir.iterdir() if p.is_file())
    assert expected <= {p.name for p in logs}, [p.name for p in logs]
    return [
        f"{path.name}: {value!r} in {line.strip()[:300]}"
        for path in logs
        for line in path.read_text(errors="replace").splitlines()
        for value in values
        if value in line
    ]


async def dead_lettered_everywhere(amqp_url: str, message_id: str) -> bool:
    """The bad ChildrenUpserted is in the dead-letter queue of each of its consumers (left there)."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for b in topology.all_bindings():
            if b.message is not cohort.ChildrenUpserted:
                continue
            queue = await channel.get_queue(b.dead_letter_queue, ensure=False)
            seen = []
            while (message := await queue.get(fail=False, no_ack=False)) is not None:
                seen.append(message)
            for message in seen:
                await message.nack(requeue=True)
            if message_id not in {m.message_id for m in seen}:
                return False
    return True
