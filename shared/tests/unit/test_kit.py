"""Pure parts of the messaging kit: failure classification, back-off, settings, clocks."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from contracts.sessions import GetSession
from msgkit.clock import FixedClock, academic_year_of, london_today
from msgkit.db import async_url, sync_url
from msgkit.deadletter import PermanentError, describe, is_permanent, retry_delay
from msgkit.settings import ServiceSettings, settings_config

pytestmark = pytest.mark.unit


def validation_error() -> ValidationError:
    with pytest.raises(ValidationError) as info:
        GetSession.model_validate({"session_id": "not-a-uuid"})
    return info.value


def test_bad_input_is_permanent_and_outages_are_not() -> None:
    assert is_permanent(validation_error())
    assert is_permanent(json.JSONDecodeError("bad", "x", 0))
    assert is_permanent(PermanentError("unknown child"))
    assert not is_permanent(ConnectionError("database went away"))
    assert not is_permanent(TimeoutError())


def test_a_value_the_database_always_refuses_is_permanent_and_a_race_is_not() -> None:
    import asyncpg
    from sqlalchemy.exc import DBAPIError

    def wrapped(error: Exception) -> DBAPIError:
        outer = DBAPIError("INSERT INTO children (first_name) VALUES ($1)", ("Amelia",), error)
        outer.__cause__ = error
        return outer

    too_long = asyncpg.exceptions.StringDataRightTruncationError("value too long for type character varying(100)")
    assert is_permanent(wrapped(too_long))
    reason = describe(wrapped(too_long))
    assert reason == "database refused it: value too long for type character varying(100)"
    assert is_permanent(wrapped(asyncpg.exceptions.NotNullViolationError("null value")))
    assert not is_permanent(wrapped(asyncpg.exceptions.UniqueViolationError("duplicate key")))
    assert not is_permanent(wrapped(asyncpg.exceptions.DeadlockDetectedError("deadlock")))


def test_dead_letter_reason_names_the_bad_field() -> None:
    reason = describe(validation_error())
    assert reason.startswith("invalid message:")
    assert "session_id" in reason


def test_retry_back_off_grows_and_is_capped() -> None:
    delays = [retry_delay(n) for n in range(12)]
    assert delays == sorted(delays)
    assert delays[0] == pytest.approx(0.2)
    assert max(delays) == 10.0


class _Settings(ServiceSettings):
    model_config = settings_config("DEMO_")
    service_name: str = "demo"


def test_settings_fall_back_to_shared_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://shared@db/clinics")
    monkeypatch.setenv("DEMO_RABBITMQ_URL", "amqp://own@mq/")
    monkeypatch.setenv("RABBITMQ_URL", "amqp://shared@mq/")
    settings = _Settings.from_env()
    assert settings.database_url.get_secret_value() == "postgresql://shared@db/clinics"
    assert settings.rabbitmq_url.get_secret_value() == "amqp://own@mq/"
    assert settings.schema_name == "demo"
    assert "shared@db" not in repr(settings), "secrets are not printed"


def test_urls_convert_between_drivers() -> None:
    assert async_url("postgres://u:p@h:5432/d") == "postgresql+asyncpg://u:p@h:5432/d"
    assert sync_url("postgresql+asyncpg://u:p@h/d") == "postgresql://u:p@h/d"


def test_academic_year_turns_on_the_first_of_september() -> None:
    assert academic_year_of(date(2026, 8, 31)) == 2025
    assert academic_year_of(date(2026, 9, 1)) == 2026


def test_london_today_follows_british_summer_time() -> None:
    clock = FixedClock(datetime(2026, 6, 1, 23, 30, tzinfo=UTC))  # 00:30 on 2 June in BST
    assert london_today(clock) == date(2026, 6, 2)
    clock.set(datetime(2026, 12, 1, 23, 30, tzinfo=UTC))  # GMT: still 1 December
    assert london_today(clock) == date(2026, 12, 1)
    clock.advance(timedelta(hours=1))
    assert london_today(clock) == date(2026, 12, 2)


async def test_shutdown_cuts_a_retry_back_off_short() -> None:
    """A message held for back-off must not hold up a graceful stop: it is nacked for the next consumer."""
    import asyncio

    from msgkit.deadletter import DeadLetterPolicy

    policy = DeadLetterPolicy("cohort")
    waiting = asyncio.create_task(policy.back_off(30.0))
    await asyncio.sleep(0)
    assert not waiting.done()
    policy.stop_backing_off()
    await asyncio.wait_for(waiting, timeout=1.0)


async def test_a_dependency_on_the_runtime_is_resolved_without_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """FastDepends runs a sync custom field or dependency in a thread pool; the wiring's must not."""
    import fast_depends.utils
    from faststream.rabbit import RabbitBroker, TestRabbitBroker

    from msgkit.wiring import Now, UoW, Wired, Wiring

    def no_threads(*args: object, **kwargs: object) -> None:
        raise AssertionError("a dependency was run in a worker thread")

    monkeypatch.setattr(fast_depends.utils, "run_in_threadpool", no_threads)
    broker, seen = RabbitBroker(), []

    at = datetime(2026, 12, 7, 9, tzinfo=UTC)
    wiring = Wiring(new_uow=lambda: "a unit of work", clock=FixedClock(at))  # type: ignore[arg-type,return-value]

    @broker.subscriber("q")
    async def handle(body: str, uow: UoW[Any], now: Now, wired: Wired[Wiring[Any]]) -> None:
        seen.append((body, uow, now, wired))

    broker.context.set_global("wiring", wiring)
    async with TestRabbitBroker(broker) as test_broker:
        await test_broker.publish("hello", "q")
    assert seen == [("hello", "a unit of work", at, wiring)]


async def test_the_decoder_parses_the_body_straight_into_the_queue_s_model() -> None:
    from faststream.message import StreamMessage
    from pydantic import ValidationError

    from msgkit.broker import decoder_for

    query = GetSession(session_id="6a1f0b9e-86a1-4f2f-9a63-0d5a5f0e2c11")
    decode = decoder_for(GetSession)
    assert await decode(StreamMessage(raw_message=None, body=query.model_dump_json().encode())) == query
    with pytest.raises(ValidationError, match="Invalid JSON"):
        await decode(StreamMessage(raw_message=None, body=b'{"session_id": "6a1f'))
