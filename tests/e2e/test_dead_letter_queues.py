"""Dead-letter queues on a real broker: any letter shown and replayed by `clinics`, and the queues' bound.

Each test has a vhost of its own holding only the queues it needs: `clinics dead-letters` reads and
replays queues, and needs no service running.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator

import aio_pika
import pytest

from clinics_admin.bootstrap import RabbitmqctlAdmin
from clinics_admin.dead_letter_bound import dead_letter_bound
from contracts import topology
from testkit import RabbitServer, admin_user, eventually

from .cli_support import Cli, Result

pytestmark = pytest.mark.e2e

Letters = dict[str, tuple[bytes, dict[str, object]]]

BINDING = topology.binding("cohort", topology.CONSUMES["cohort"][0])  # cohort.team_updated
# What a dead-letter queue may hold: JSON past any parser's stack, bytes with terminal escapes that are not
# UTF-8, megabytes, a name with escapes written as JSON escapes, and x-death headers no broker wrote.
LETTERS: Letters = {
    "nested": (b"[" * 100_000 + b"]" * 100_000, {}),
    "binary": (b"\xff\xfe\x00\x1b[2J\x1b]0;pwned\x07", {}),
    "huge": (b'{"type": "TeamUpdated", "pad": "' + b"x" * 3_000_000 + b'"}', {}),
    "escaped": (json.dumps({"type": "TeamUpdated", "by": "Nurse \x1b[2J\u202eyoJ"}).encode(), {}),
    "odd-headers": (b"{}", {"x-death": "not a list", "x-death-reason": "Nurse \x1b[2J"}),
}


@pytest.fixture
def vhost(rabbit: RabbitServer) -> Iterator[str]:
    with rabbit.fresh_vhost() as url:
        yield url


@pytest.fixture
async def channel(vhost: str) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    connection = await aio_pika.connect(vhost)
    async with connection:
        yield await connection.channel(publisher_confirms=True)


async def _queues(channel: aio_pika.abc.AbstractChannel, **target_arguments: object) -> None:
    await channel.declare_queue(BINDING.queue, durable=True, arguments={**BINDING.queue_arguments, **target_arguments})
    await channel.declare_queue(BINDING.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"})


async def _dead_letter(channel: aio_pika.abc.AbstractChannel, letters: Letters) -> None:
    for message_id, (body, headers) in letters.items():
        # An operator's letter: replayed, the queue accepts it (msgkit.senders).
        message = aio_pika.Message(body, message_id=message_id, headers=headers, delivery_mode=2, user_id=admin_user())  # type: ignore[arg-type]
        await channel.default_exchange.publish(message, routing_key=BINDING.dead_letter_queue, mandatory=True)


async def _depth(channel: aio_pika.abc.AbstractChannel, queue: str) -> int:
    declared = await channel.declare_queue(queue, passive=True)
    return declared.declaration_result.message_count or 0


def _readable(result: Result) -> None:
    """Exited without a traceback, and nothing printed that a terminal would obey."""
    printed = result.stdout + result.stderr
    assert "Traceback" not in printed and "RecursionError" not in printed, printed[-2000:]
    assert not [c for c in printed if c not in "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F)], printed[-2000:]
    assert "\u202e" not in printed


async def test_every_dead_letter_is_shown_whatever_its_body(vhost: str, channel: aio_pika.abc.AbstractChannel) -> None:
    cli = Cli(vhost)
    await _queues(channel)
    await _dead_letter(channel, LETTERS)

    table = (await cli("dead-letters", "show", BINDING.dead_letter_queue, "--body")).ok()
    _readable(table)
    assert all(message_id in table.stdout for message_id in LETTERS)
    assert f"undecodable body ({len(LETTERS['binary'][0])} bytes" in table.stdout
    assert "(not read: nested too deeply)" in table.stdout and "Nurse \\x1b[2J" in table.stdout
    assert f"({len(LETTERS['huge'][0])} bytes in all; --json prints it whole)" in table.stdout

    as_json = (await cli("dead-letters", "show", BINDING.dead_letter_queue, "--body", json=True)).ok()
    _readable(as_json)
    shown = {row["message_id"]: row for row in as_json.json()}
    for message_id, (body, _) in LETTERS.items():
        row = shown[message_id]
        assert row["body_bytes"] == len(body)
        assert (row["body"].encode() if row["body"] is not None else base64.b64decode(row["body_base64"])) == body
    assert shown["odd-headers"]["reason"] == "Nurse \x1b[2J"  # as stored; JSON escapes it
    assert await _depth(channel, BINDING.dead_letter_queue) == len(LETTERS), "showing takes nothing away"


async def test_every_dead_letter_is_replayed_as_it_is(vhost: str, channel: aio_pika.abc.AbstractChannel) -> None:
    cli = Cli(vhost)
    await _queues(channel)
    await _dead_letter(channel, LETTERS)

    replayed = (await cli("dead-letters", "replay", BINDING.dead_letter_queue)).ok()
    _readable(replayed)
    assert replayed.stdout.strip() == (
        f"replayed 5 of 5 message(s) from {BINDING.dead_letter_queue} to {BINDING.queue}"
    )
    queue = await channel.declare_queue(BINDING.queue, passive=True)
    for _ in LETTERS:
        message = await eventually(lambda: queue.get(fail=False), timeout=10, what="a replayed letter")
        await message.ack()
        assert message.body == LETTERS[str(message.message_id)][0]
    assert await _depth(channel, BINDING.dead_letter_queue) == 0


async def test_a_letter_the_broker_refuses_is_reported_and_kept(
    vhost: str, channel: aio_pika.abc.AbstractChannel
) -> None:
    cli = Cli(vhost)
    # A target that takes (about) nothing more: the broker nacks what it cannot take.
    await _queues(channel, **{"x-max-length": 0, "x-overflow": "reject-publish"})
    await _dead_letter(channel, {f"r{i}": (b"{}", {}) for i in range(3)})

    result = (await cli("dead-letters", "replay", BINDING.dead_letter_queue, json=True)).failed(1)
    _readable(result)
    outcome = result.json()
    assert len(outcome["replayed"]) + len(outcome["failed"]) == 3 and outcome["failed"]
    assert all("refused by the broker (nack)" in f["error"] for f in outcome["failed"])
    left = (await cli("dead-letters", "show", BINDING.dead_letter_queue, json=True)).ok().json()
    assert sorted(m["message_id"] for m in left) == sorted(f["message_id"] for f in outcome["failed"])

    table = (await cli("dead-letters", "replay", BINDING.dead_letter_queue)).failed(1)
    assert f"not replayed (still in {BINDING.dead_letter_queue})" in table.stdout
    assert f"replayed 0 of {len(left)} message(s)" in table.stdout


async def test_the_bound_drops_the_oldest_dead_letters_and_bounds_no_other_queue(
    rabbit: RabbitServer, vhost: str, channel: aio_pika.abc.AbstractChannel
) -> None:
    # Set as bootstrap sets it, with a bound small enough to reach.
    RabbitmqctlAdmin(lambda args: rabbit.ctl(*args)).set_operator_policy(
        vhost.rsplit("/", 1)[1], dead_letter_bound(max_length=3)
    )
    await _queues(channel)
    for queue in (BINDING.dead_letter_queue, BINDING.queue):
        for i in range(5):
            message = aio_pika.Message(str(i).encode(), delivery_mode=2)
            await channel.default_exchange.publish(message, routing_key=queue, mandatory=True)

    async def bounded() -> bool:
        return await _depth(channel, BINDING.dead_letter_queue) == 3

    await eventually(bounded, timeout=10, what="the dead-letter queue cut to its bound")
    oldest = await (await channel.declare_queue(BINDING.dead_letter_queue, passive=True)).get(no_ack=True)
    assert oldest.body == b"2", "the two oldest letters were dropped"
    assert await _depth(channel, BINDING.queue) == 5
