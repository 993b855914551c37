"""What the suite checks besides the provider's records: dead letters, and whether the system has gone quiet.

The broker is inspected with passive declares in the run's own vhost. The database is read as the
admin user, read-only, only to know when nothing is left to do and to explain a loss if there is one.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
import asyncpg

from contracts import cohort, sessions, topology
from contracts.envelope import Message
from contracts.topology import SERVICES
from msgkit.db import sync_url
from msgkit.failover import connect_first

# `amqp_url` may be a cluster's address list (chaos.cluster): the first node that answers is used.
CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Malformed:
    """A message that is invalid by design, and the dead-letter queues it must end up in."""

    message_id: str
    message: type[Message]
    body: bytes

    @property
    def dead_letter_queues(self) -> list[str]:
        return [b.dead_letter_queue for b in topology.all_bindings() if b.message is self.message and not b.is_request]


def malformed_messages() -> list[Malformed]:
    """Not JSON; JSON of the wrong shape; a field of the wrong type: a command, an event, a fanned-out event."""
    tag = uuid.uuid4().hex[:8]
    return [
        Malformed(f"chaos-malformed-{tag}-1", cohort.ChildrenUpserted, b"this is not JSON {"),
        Malformed(f"chaos-malformed-{tag}-2", cohort.InviteToClinic, b'{"invitations": "not a list"}'),
        Malformed(f"chaos-malformed-{tag}-3", sessions.TeamUpdated, b'{"team": {"ods_code": "lower case!"}}'),
    ]


async def publish_malformed(amqp_url: str, messages: Sequence[Malformed]) -> None:
    connection = await connect_first(amqp_url, timeout=CONNECT_TIMEOUT)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        for m in messages:
            route = topology.route_for(m.message)
            exchange = await channel.get_exchange(route.exchange, ensure=True)
            await exchange.publish(
                aio_pika.Message(
                    m.body,
                    message_id=m.message_id,
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=route.routing_key,
                mandatory=True,
            )


def expected_dead_letters(messages: Sequence[Malformed]) -> dict[str, set[str]]:
    expected: dict[str, set[str]] = {}
    for m in messages:
        for queue in m.dead_letter_queues:
            expected.setdefault(queue, set()).add(m.message_id)
    return expected


async def queue_depths(amqp_url: str, names: Sequence[str]) -> dict[str, int]:
    """Ready messages per queue (passive declare); a queue that does not exist counts as empty."""
    depths: dict[str, int] = {}
    connection = await connect_first(amqp_url, timeout=CONNECT_TIMEOUT)
    async with connection:
        for name in names:
            channel = await connection.channel()
            try:
                queue = await channel.declare_queue(name, passive=True)
                depths[name] = int(queue.declaration_result.message_count or 0)
            except aio_pika.exceptions.ChannelClosed:
                depths[name] = 0
            finally:
                if not channel.is_closed:
                    await channel.close()
    return depths


async def dead_letters(amqp_url: str) -> dict[str, list[dict[str, str]]]:
    """Every message in every `<queue>.dlq`: its id and reason. Read unacked, so they all stay queued."""
    names = [b.dead_letter_queue for b in topology.all_bindings()]
    found: dict[str, list[dict[str, str]]] = {}
    depths = await queue_depths(amqp_url, names)
    connection = await connect_first(amqp_url, timeout=CONNECT_TIMEOUT)
    async with connection:
        channel = await connection.channel()
        for name, depth in depths.items():
            if not depth:
                continue
            queue = await channel.declare_queue(name, passive=True)
            messages = []
            for _ in range(depth):
                got = await queue.get(no_ack=False, fail=False)
                if got is None:
                    break
                reason = str((got.headers or {}).get("x-death-reason", ""))[:200]
                messages.append({"message_id": str(got.message_id), "reason": reason})
            found[name] = messages
        await channel.close()  # the unacked messages go back to their queues
    return found


def judge_dead_letters(found: dict[str, list[dict[str, str]]], expected: dict[str, set[str]]) -> list[str]:
    """Problems: a by-design message missing from its DLQ, or anything else in any DLQ."""
    problems = []
    for queue in sorted(set(found) | set(expected)):
        ids = Counter(m["message_id"] for m in found.get(queue, []))
        want = expected.get(queue, set())
        problems += [f"{queue}: by-design message {i} missing" for i in sorted(want - set(ids))]
        problems += [f"{queue}: unexpected dead letter {i} (x{n})" for i, n in sorted(ids.items()) if i not in want]
        problems += [f"{queue}: {i} dead-lettered {n} times" for i, n in sorted(ids.items()) if i in want and n > 1]
    return problems


def live_queues() -> list[str]:
    return [b.queue for b in topology.all_bindings()]


_PENDING = """
SELECT (SELECT count(*) FROM notify.notifications WHERE status IN ('pending', 'sending')) AS notifications,
       (SELECT count(*) FROM notify.invitations WHERE status IN ('waiting', 'scheduled', 'sending')) AS invitations,
       (SELECT count(*) FROM cohort.imports WHERE status <> 'committed') AS imports,
       {outboxes} AS outbox
"""


class Database:
    """Read-only views of the run's database as the admin user."""

    def __init__(self, url: str) -> None:
        self._url = sync_url(url)

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self._url, timeout=10)
        try:
            async with conn.transaction(readonly=True):
                return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    async def pending(self) -> dict[str, int]:
        """Work notify, cohort and every outbox still hold; all zero when the system is quiet."""
        outboxes = " + ".join(f"(SELECT count(*) FROM {s}.outbox_messages)" for s in SERVICES)
        (row,) = await self._fetch(_PENDING.format(outboxes=outboxes))
        return {k: int(v) for k, v in dict(row).items()}

    async def import_status(self, import_id: uuid.UUID) -> str | None:
        rows = await self._fetch("SELECT status FROM cohort.imports WHERE import_id = $1", import_id)
        return str(rows[0]["status"]) if rows else None

    async def notify_statuses(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for table in ("invitations", "notifications"):
            rows = await self._fetch(f"SELECT status, count(*) AS n FROM notify.{table} GROUP BY status")
            out[table] = {str(r["status"]): int(r["n"]) for r in rows}
        return out

    async def notification_statuses_for(self, addresses: Sequence[str]) -> dict[str, str]:
        """notify's status of the notification to each address ('none' if it never made one)."""
        rows = await self._fetch(
            'SELECT "to", string_agg(status, \',\') AS s FROM notify.notifications WHERE "to" = ANY($1) GROUP BY "to"',
            list(addresses),
        )
        found = {str(r["to"]): str(r["s"]) for r in rows}
        return {a: found.get(a, "none") for a in addresses}
