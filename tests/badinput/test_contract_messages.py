"""Property tests over every contract message: bad bodies are refused with a readable, permanent reason.

A body reaches a handler the way FastStream delivers it: the bytes are decoded as JSON (content type
application/json) and validated against the handler's message class. Whatever fails there is what the
dead-letter policy sees: it must be judged permanent (dead-lettered at once, or an error reply, never
retried), and `describe` must give a reason a person can act on: it names the field, stays short, and
never copies the input (which may be huge, or personal data).

The same bodies are published to the running services in tests/e2e/test_bad_input.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contracts.envelope import Message
from contracts.snapshots import all_messages
from msgkit.deadletter import describe, is_permanent

from .bodies import HUGE, breakages, json_values, not_json, valid_body, wrong_shapes

pytestmark = pytest.mark.unit

MESSAGES = all_messages()
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECRET = "Zebedee-Quux-9434765919"  # stands in for personal data a bad message might carry


def deliver(message: type[Message], body: bytes) -> Message:
    """What the broker path does with a body: JSON-decode it, then validate it as the handler's argument."""
    return message.model_validate(json.loads(body))


def refusal(message: type[Message], body: bytes) -> BaseException | None:
    try:
        deliver(message, body)
    except Exception as exc:
        return exc
    return None


def assert_readable(reason: str, *, field: str | None = None) -> None:
    assert reason and len(reason) <= 2000, reason
    assert reason.isprintable(), reason
    assert "x" * 100 not in reason, "the reason copies a huge input"
    assert SECRET not in reason, "the reason copies the input"
    if field is not None:
        assert field.split(".")[0] in reason, f"the reason does not name {field}: {reason}"


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.__name__)
def test_the_valid_example_is_accepted(message: type[Message]) -> None:
    accepted = deliver(message, json.dumps(valid_body(message)).encode())
    assert isinstance(accepted, message)


def test_every_message_has_required_fields() -> None:
    """An empty object is never a message: every contract class has something to validate."""
    for message in MESSAGES:
        assert isinstance(refusal(message, b"{}"), ValidationError), message.__name__


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.__name__)
def test_every_single_field_breakage_is_refused_with_a_reason_naming_the_field(message: type[Message]) -> None:
    cases = breakages(message)
    assert cases
    for case in cases:
        exc = refusal(message, json.dumps(case.body).encode())
        assert exc is not None, f"{message.__name__}.{case.field} {case.how} was accepted"
        assert is_permanent(exc), (case.field, case.how, exc)
        reason = describe(exc)
        assert reason.startswith("invalid message: "), reason
        assert_readable(reason, field=case.field)


@PROPERTY
@given(message=st.sampled_from(MESSAGES), data=st.data())
def test_bytes_that_are_not_json_are_refused_permanently(message: type[Message], data: st.DataObject) -> None:
    body = data.draw(not_json())
    exc = refusal(message, body)
    assert exc is not None and is_permanent(exc), exc
    assert_readable(describe(exc))


@PROPERTY
@given(message=st.sampled_from(MESSAGES), data=st.data())
def test_json_of_the_wrong_shape_is_refused_permanently_or_is_a_valid_message(
    message: type[Message], data: st.DataObject
) -> None:
    value = data.draw(wrong_shapes(message))
    exc = refusal(message, json.dumps(value).encode())
    if exc is None:
        return  # lax validation turned it into a valid message ("5" for 5): the handler gets a real one
    assert is_permanent(exc), exc
    assert_readable(describe(exc))


@PROPERTY
@given(message=st.sampled_from(MESSAGES), extra=st.dictionaries(st.text(max_size=20), json_values, max_size=5))
def test_unknown_extra_fields_are_tolerated(message: type[Message], extra: dict[str, Any]) -> None:
    """Additive changes stay compatible: a consumer ignores fields a newer producer adds."""
    body = {**extra, **valid_body(message)}
    assert isinstance(deliver(message, json.dumps(body).encode()), message)


@PROPERTY
@given(message=st.sampled_from(MESSAGES), data=st.data())
def test_personal_data_in_a_bad_body_is_not_copied_into_the_reason(message: type[Message], data: st.DataObject) -> None:
    case = data.draw(st.sampled_from(breakages(message)))
    body = {**case.body, "note": SECRET} if isinstance(case.body, dict) else case.body
    # Put the secret where the validator looks: into the broken field when it is a string.
    if isinstance(body, dict) and case.field and "." not in case.field and isinstance(body.get(case.field), str):
        body[case.field] = SECRET + body[case.field][:50]
    exc = refusal(message, json.dumps(body).encode())
    if exc is not None:
        assert_readable(describe(exc))


def test_a_huge_body_is_refused_without_echoing_it() -> None:
    for message in MESSAGES:
        body = {**valid_body(message), "message_id": "x" * HUGE}
        exc = refusal(message, json.dumps(body).encode())
        assert exc is not None and is_permanent(exc)
        assert_readable(describe(exc), field="message_id")
