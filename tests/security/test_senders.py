"""Each queue acts only on messages from the senders the contract names, replies go only to reply queues, and a
queue acts only on its own message type (issue 19 items 1-3).

The walk publishes, as every broker user bootstrap makes (the four services, the staff CLI, the consent form),
a valid message of every queue's type, by the route the contract gives it and by the default exchange straight
to the queue. A pair the contract allows is handled; any other has no effect: the broker refuses the publish
(permissions), or the consumer dead-letters it "sender not allowed".
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractConnection
from aiormq.exceptions import ChannelAccessRefused

from clinics_admin.bootstrap import service_amqp_url
from contracts import cohort, consent, notify, sessions, topology
from contracts.envelope import Message
from msgkit.failover import FailoverBroker
from msgkit.rpc import request
from msgkit.senders import ORIGINAL_SENDER_HEADER, REPLY_TO_NOT_ALLOWED, SENDER_NOT_ALLOWED, WRONG_TYPE, connection_user
from testkit import eventually

from .senders_support import Seen, amqp_message, body_of, consumers, reached

pytestmark = pytest.mark.integration

PRINCIPALS = topology.principals()


@pytest.fixture
async def seen(privileged_vhost: str) -> AsyncIterator[Seen]:
    found = Seen()
    async with consumers(privileged_vhost, found):
        yield found


@pytest.fixture
async def admin(privileged_vhost: str) -> AsyncIterator[AbstractChannel]:
    connection = await aio_pika.connect(privileged_vhost)
    async with connection:
        yield await connection.channel()


async def publish_as(
    connection: AbstractConnection, exchange: str, routing_key: str, message: aio_pika.Message
) -> bool:
    """False if the broker refused the publish (permissions); a refusal closes only this channel."""
    channel = await connection.channel()  # confirms: a refusal arrives before the publish returns
    try:
        target = channel.default_exchange if not exchange else await channel.get_exchange(exchange, ensure=False)
        await target.publish(message, routing_key=routing_key, mandatory=False)
    except ChannelAccessRefused:
        return False
    finally:
        if not channel.is_closed:
            await channel.close()
    return True


def routes(b: topology.Binding) -> list[tuple[str, str]]:
    """The contract's route to the queue, and the default exchange's."""
    return [(b.exchange, b.routing_key), ("", b.queue)]


async def test_every_principal_reaches_exactly_the_queues_the_contract_allows(
    privileged_vhost: str, seen: Seen, admin: AbstractChannel
) -> None:
    allowed: set[tuple[str, str]] = set()
    refused: set[tuple[str, str]] = set()
    for principal in PRINCIPALS:
        connection = await aio_pika.connect(service_amqp_url(privileged_vhost, principal))
        async with connection:
            for b in topology.all_bindings():
                for exchange, routing_key in routes(b):
                    message_id, body = body_of(b.message)
                    sent = amqp_message(body, message_id, user_id=principal)
                    if not await publish_as(connection, exchange, routing_key, sent):
                        continue
                    for target in reached(exchange, routing_key, b.queue):
                        pair = (target.queue, message_id)
                        (allowed if principal in topology.senders(target) else refused).add(pair)

    async def settled() -> bool:
        await seen.read_dead_letters(admin)
        return allowed <= seen.handled and refused <= seen.dead.keys()

    await eventually(settled, timeout=60, what="every allowed message handled and every other dead-lettered")
    assert seen.handled == allowed, "a message from a sender the contract does not name was handled"
    assert {seen.dead[pair] for pair in refused} == {SENDER_NOT_ALLOWED}
    # Every queue is reachable by its senders, through its contract route: none is left unserved.
    assert {queue for queue, _ in allowed} == {b.queue for b in topology.all_bindings() if topology.senders(b)}


@pytest.mark.parametrize("message", [cohort.FindChildren, consent.SendParentMessage, consent.RecordConsent])
async def test_a_message_without_a_user_id_is_not_handled(
    privileged_vhost: str, seen: Seen, admin: AbstractChannel, message: type[Message]
) -> None:
    """The issue's attacks: notify's user drives the default exchange, without claiming to be anyone."""
    (b,) = [b for b in topology.all_bindings() if b.message is message]
    message_id, body = body_of(message)
    connection = await aio_pika.connect(service_amqp_url(privileged_vhost, "notify"))
    async with connection:
        assert await publish_as(connection, "", b.queue, amqp_message(body, message_id, user_id=None))
    await eventually(lambda: _dead(seen, admin, b.queue, message_id), what="the dead letter")
    assert seen.dead[(b.queue, message_id)] == SENDER_NOT_ALLOWED
    assert (b.queue, message_id) not in seen.handled


async def _dead(seen: Seen, admin: AbstractChannel, queue: str, message_id: str) -> bool:
    await seen.read_dead_letters(admin)
    return (queue, message_id) in seen.dead


async def test_a_request_whose_reply_to_is_a_work_queue_is_refused_not_answered(
    privileged_vhost: str, seen: Seen, admin: AbstractChannel
) -> None:
    """Item 2: a request naming notify's queue as its reply_to is dead-lettered, and notify hears nothing."""
    b = topology.binding("consent", consent.GetConsentStatus)
    victim = topology.binding("notify", consent.SendParentMessage).queue
    message_id, body = body_of(consent.GetConsentStatus)
    sent = amqp_message(body, message_id, user_id="clinics_cli", reply_to=victim)
    connection = await aio_pika.connect(service_amqp_url(privileged_vhost, "clinics_cli"))
    async with connection:
        assert await publish_as(connection, b.exchange, b.routing_key, sent)
    await eventually(lambda: _dead(seen, admin, b.queue, message_id), what="the dead letter")
    assert seen.dead[(b.queue, message_id)] == REPLY_TO_NOT_ALLOWED
    assert (b.queue, message_id) not in seen.handled
    assert not [pair for pair in seen.handled if pair[0] == victim]
    assert not [pair for pair in seen.dead if pair[0] == victim]


async def test_a_request_answered_by_direct_reply_to_reaches_its_requester(privileged_vhost: str, seen: Seen) -> None:
    """The CLI's user asks through msgkit (user_id set for it) and gets the answer on direct reply-to."""
    client = FailoverBroker(service_amqp_url(privileged_vhost, "clinics_cli"), log_level=40)
    await client.connect()
    try:
        reply = await request(client, notify.GetInvitationStatus(child_id=uuid.uuid4()), timeout=20)
    finally:
        await client.stop()
    assert reply.ok and reply.data == {"queue": "notify.get_invitation_status"}


@pytest.mark.parametrize(
    ("queue_message", "claimed"),
    [(sessions.GetClinicSession, "GetSession"), (cohort.GetActivityLog, "GetConsentStatus"), (cohort.FindChildren, "")],
)
async def test_a_body_of_another_type_is_dead_lettered_though_its_fields_fit(
    privileged_vhost: str, seen: Seen, admin: AbstractChannel, queue_message: type[Message], claimed: str
) -> None:
    """Item 3: the fields are the queue's message's, the envelope says another message (or none)."""
    b = next(b for b in topology.all_bindings() if b.message is queue_message)
    message_id, body = body_of(queue_message, type=claimed)
    connection = await aio_pika.connect(service_amqp_url(privileged_vhost, "clinics_cli"))
    async with connection:
        assert await publish_as(
            connection, b.exchange, b.routing_key, amqp_message(body, message_id, user_id="clinics_cli")
        )
    await eventually(lambda: _dead(seen, admin, b.queue, message_id), what="the dead letter")
    assert seen.dead[(b.queue, message_id)] == WRONG_TYPE


async def test_an_operator_is_accepted_but_cannot_replay_a_sender_the_queue_refuses(
    privileged_vhost: str, seen: Seen, admin: AbstractChannel
) -> None:
    b = topology.binding("cohort", cohort.FindChildren)
    ok_id, ok_body = body_of(cohort.FindChildren)
    bad_id, bad_body = body_of(cohort.FindChildren)
    user = connection_user(privileged_vhost)  # the vhost's admin: the operator the consumers accept
    await admin.default_exchange.publish(amqp_message(ok_body, ok_id, user_id=user), routing_key=b.queue)
    laundered = amqp_message(bad_body, bad_id, user_id=user, headers={ORIGINAL_SENDER_HEADER: "notify"})
    await admin.default_exchange.publish(laundered, routing_key=b.queue)
    await eventually(lambda: _dead(seen, admin, b.queue, bad_id), what="the laundered replay's dead letter")
    assert seen.dead[(b.queue, bad_id)] == SENDER_NOT_ALLOWED
    await eventually(lambda: _handled(seen, b.queue, ok_id), what="the operator's message")


async def _handled(seen: Seen, queue: str, message_id: str) -> bool:
    return (queue, message_id) in seen.handled
