"""msgkit.senders: who each queue accepts, where replies may go; msgkit.broker's decoder: only the queue's type."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from contracts import cohort, consent, sessions, topology
from msgkit.broker import decoder_for
from msgkit.senders import (
    ORIGINAL_SENDER_HEADER,
    REPLY_TO_NOT_ALLOWED,
    SENDER_NOT_ALLOWED,
    WRONG_TYPE,
    DeliveryCheck,
    Refused,
    connection_user,
    is_reply_queue,
)
from msgkit.settings import ServiceSettings

pytestmark = pytest.mark.unit

FIND = topology.binding("cohort", cohort.FindChildren).queue
SEND = topology.binding("notify", consent.SendParentMessage).queue


def refusal(check: DeliveryCheck, queue: str, user_id: str | None, reply_to: str = "", **headers: Any) -> str | None:
    try:
        check.check(queue, user_id=user_id, reply_to=reply_to, headers=headers)
    except Refused as exc:
        return str(exc)
    return None


def test_a_command_is_accepted_only_from_its_producer() -> None:
    check = DeliveryCheck(operators=("admin",))
    assert refusal(check, SEND, "consent") is None
    assert [refusal(check, SEND, u) for u in ("sessions", "cohort", "notify", "clinics_cli", None, "")] == [
        SENDER_NOT_ALLOWED
    ] * 6


def test_a_request_is_accepted_only_from_the_clients_that_list_it() -> None:
    check = DeliveryCheck()
    assert refusal(check, FIND, "clinics_cli") is None
    assert refusal(check, FIND, "consent_form") == SENDER_NOT_ALLOWED
    assert refusal(check, FIND, "notify") == SENDER_NOT_ALLOWED


def test_an_operator_is_accepted_unless_it_replays_a_sender_the_queue_refuses() -> None:
    check = DeliveryCheck(operators=("admin",))
    assert refusal(check, FIND, "admin") is None
    assert refusal(check, FIND, "admin", **{ORIGINAL_SENDER_HEADER: "clinics_cli"}) is None
    assert refusal(check, FIND, "admin", **{ORIGINAL_SENDER_HEADER: b"notify"}) == SENDER_NOT_ALLOWED
    assert refusal(check, FIND, "admin", **{ORIGINAL_SENDER_HEADER: ""}) == SENDER_NOT_ALLOWED
    # Only an operator's header counts: anyone else's is what they say, not what the broker vouches for.
    assert refusal(check, FIND, "notify", **{ORIGINAL_SENDER_HEADER: "clinics_cli"}) == SENDER_NOT_ALLOWED


def test_replies_go_only_to_direct_reply_to() -> None:
    check = DeliveryCheck()
    assert refusal(check, FIND, "clinics_cli", reply_to="amq.rabbitmq.reply-to.g1h2AA==.abc") is None
    for elsewhere in (SEND, "amq.rabbitmq.reply-toX", "cohort.find_children", " amq.rabbitmq.reply-to"):
        assert refusal(check, FIND, "clinics_cli", reply_to=elsewhere) == REPLY_TO_NOT_ALLOWED
    assert is_reply_queue("amq.rabbitmq.reply-to") and not is_reply_queue("amq.gen-abc")


def test_the_connection_user_is_the_urls_or_amqps_default() -> None:
    assert connection_user("amqp://clinics_cli:pw@mq:5672/v") == "clinics_cli"
    assert connection_user("amqp://a%40b:pw@n1/,n2:5673") == "a@b"
    assert connection_user("amqp://mq/") == "guest"


def test_operators_are_a_comma_separated_setting() -> None:
    assert ServiceSettings(broker_operators=" admin, ops ,").operators == ("admin", "ops")
    assert ServiceSettings().operators == ("guest",)


async def decode(message: Any, body: bytes, contract: Any = None) -> Any:
    return await decoder_for(message, contract=contract)(SimpleNamespace(body=body))  # type: ignore[arg-type]


async def test_a_body_of_another_type_is_refused_though_its_fields_fit() -> None:
    query = sessions.GetSession(session_id=uuid.uuid4())
    body = query.model_dump_json().encode()
    assert (await decode(sessions.GetSession, body)).session_id == query.session_id
    missing = b'{"session_id": "%s"}' % str(query.session_id).encode()
    for other in (body.replace(b'"GetSession"', b'"GetClinicSession"'), body.replace(b'"GetSession"', b'""'), missing):
        with pytest.raises(Refused, match=WRONG_TYPE):
            await decode(sessions.GetSession, other)


async def test_a_failure_before_the_check_is_never_answered_into_a_work_queue() -> None:
    """FastStream's parser runs before the middleware's check: its failure is dead-lettered, not answered."""
    from msgkit.deadletter import REASON_HEADER, DeadLetterPolicy, _DeadLetterMiddleware

    sent: list[dict[str, Any]] = []

    class Broker:
        async def publish(self, body: bytes, **kwargs: Any) -> None:
            sent.append(kwargs)

    raw = SimpleNamespace(reply_to=SEND, headers={}, user_id="clinics_cli", message_id="m", correlation_id="m")
    raw.exchange, raw.routing_key, raw.body, raw.content_type = "cohort.requests", "cohort.find_children", b"", None
    context = SimpleNamespace(get_local=lambda name: None)
    policy = DeadLetterPolicy("cohort", Broker())  # type: ignore[arg-type]
    middleware = _DeadLetterMiddleware(raw, context=context, policy=policy)
    assert await middleware.after_processed(ValueError, ValueError("unparsable"), None) is True
    (dead_letter,) = sent
    assert dead_letter["exchange"] == "cohort.dead-letters" and dead_letter["routing_key"] != SEND
    assert dead_letter["headers"][REASON_HEADER] == REPLY_TO_NOT_ALLOWED
