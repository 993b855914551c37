"""`clinics dead-letters` reads any letter: nested, binary, huge bodies and odd headers; replay reports failures."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import aio_pika
import pytest
from pamqp.commands import Basic

from clinics_cli import deadletters, letters

pytestmark = pytest.mark.unit

NESTED = b"[" * 100_000 + b"]" * 100_000


@dataclass
class FakeLetter:
    body: bytes
    message_id: str | None = "m1"
    type: str | None = None
    headers: dict[str, Any] = field(default_factory=dict)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (NESTED, "(not read: nested too deeply)"),
        (b"\xff\xfe\x00binary\x1b[2J", "(not JSON)"),
        (b"x" * (letters.PARSED_BYTES + 1), "(not read: too long)"),
        (b'{"type": "ConsentGiven"}', "ConsentGiven"),
        (b'["not", "an object"]', ""),
    ],
    ids=["nested", "binary", "huge", "envelope", "array"],
)
def test_any_body_is_described_without_raising(body: bytes, kind: str) -> None:
    row = letters.describe(FakeLetter(body), with_body=True)
    assert row["type"] == kind and row["body_bytes"] == len(body)
    if row["body"] is None:
        assert base64.b64decode(row["body_base64"]) == body
    else:
        assert row["body"].encode() == body
    json.dumps(row)  # what --json prints


def test_a_table_shows_a_long_body_cut_short_and_a_binary_one_as_such() -> None:
    huge = letters.table_row(letters.describe(FakeLetter(b"y" * 3_000_000), with_body=True))
    assert huge["body"].endswith("… (3000000 bytes in all; --json prints it whole)")
    assert len(huge["body"]) < letters.SHOWN_CHARACTERS + 100 and "body_bytes" not in huge
    binary = letters.table_row(letters.describe(FakeLetter(b"\xff\x00\x1b"), with_body=True))
    assert binary["body"] == "undecodable body (3 bytes, not UTF-8; --json gives it in base64)"


@pytest.mark.parametrize("death", ["a string", 7, [], ["not a table"], [{"count": 1}], [{"reason": b"rejected"}]])
def test_malformed_broker_headers_still_give_a_reason(death: object) -> None:
    reason = letters.describe(FakeLetter(b"{}", headers={"x-death": death}), with_body=False)["reason"]
    assert reason in ("unknown", "broker: rejected")


def test_header_bytes_are_read_as_text() -> None:
    row = letters.describe(FakeLetter(b"{}", headers={"x-death-reason": b"bad \xff"}), with_body=False)
    assert row["reason"] == "bad \ufffd"


class FakeExchange:
    def __init__(self, error: BaseException | None) -> None:
        self.error = error
        self.published: list[aio_pika.Message] = []

    async def publish(self, message: aio_pika.Message, routing_key: str, **_: Any) -> None:
        if self.error is not None:
            raise self.error
        self.published.append(message)


class FakeChannel:
    def __init__(self, error: BaseException | None = None) -> None:
        self.default_exchange = FakeExchange(error)


class FakeIncoming(FakeLetter):
    content_type = "application/json"
    content_encoding = None
    priority = 3
    correlation_id = "c1"
    reply_to = None
    timestamp = None
    app_id = "cohort"
    user_id = "someone-else"
    expiration = 5


@pytest.mark.parametrize(
    ("error", "why"),
    [
        (aio_pika.exceptions.PublishError(SimpleNamespace(delivery=Basic.Return()), None), "returned by the broker"),
        (aio_pika.exceptions.DeliveryError(None, None), "refused by the broker (nack)"),
        (TimeoutError(), "not confirmed within 30s"),
        (aio_pika.exceptions.ChannelInvalidStateError("closed"), "cannot be published again"),
    ],
    ids=["returned", "nacked", "unconfirmed", "channel-closed"],
)
async def test_a_letter_the_broker_will_not_take_back_is_reported(error: BaseException, why: str) -> None:
    letter = FakeIncoming(NESTED)
    reported = await deadletters._send_back(FakeChannel(error), letter, "cohort.team_updated")  # type: ignore[arg-type]
    assert reported is not None and reported.startswith(why)


async def test_a_replayed_letter_is_the_same_message_without_its_death_marks() -> None:
    channel = FakeChannel()
    headers = {"x-death-reason": "boom", "x-death": [{"reason": "rejected"}], "x-trace": "t1"}
    letter = FakeIncoming(NESTED, type="TeamUpdated", headers=headers)
    assert await deadletters._send_back(channel, letter, "cohort.team_updated") is None  # type: ignore[arg-type]
    (sent,) = channel.default_exchange.published
    assert sent.body == NESTED and sent.type == "TeamUpdated" and sent.message_id == "m1"
    assert (sent.priority, sent.correlation_id, sent.app_id) == (3, "c1", "cohort")
    # Sent as the operator (the broker refuses any other user_id), saying whose it was: the letter was not
    # dead-lettered by cohort, so its own publisher's user is the original sender (msgkit.senders judges it).
    assert sent.user_id == "guest" and sent.expiration is None
    assert set(sent.headers) == {"x-trace", "x-replayed-at", "x-original-user-id"}
    assert sent.headers["x-original-user-id"] == "someone-else"


async def test_a_letter_its_consumer_dead_lettered_is_replayed_as_its_original_senders() -> None:
    channel = FakeChannel()
    headers = {"x-death-reason": "boom", "x-original-user-id": "sessions"}
    letter = FakeIncoming(NESTED, type="TeamUpdated", headers=headers)
    letter.user_id = "cohort"  # cohort's msgkit dead-lettered it: its header is the broker-validated sender
    assert await deadletters._send_back(channel, letter, "cohort.team_updated", operator="admin") is None  # type: ignore[arg-type]
    (sent,) = channel.default_exchange.published
    assert (sent.user_id, sent.headers["x-original-user-id"]) == ("admin", "sessions")
