"""The stack's naming and addressing, without starting anything."""

from __future__ import annotations

from typing import Any, cast

import pytest

from testkit.stack import World, process_names, service_of
from testkit.stub import CALLBACK_TOKEN, StubOptions

pytestmark = pytest.mark.unit


def test_a_service_run_once_is_named_for_it_and_replicas_are_numbered_from_one() -> None:
    names = process_names({"sessions": 1, "cohort": 1, "consent": 1, "notify": 2})
    assert names == ["sessions", "cohort", "consent", "notify-1", "notify-2"]
    assert [service_of(n) for n in names] == ["sessions", "cohort", "consent", "notify", "notify"]


def test_each_process_is_given_the_world_s_broker_or_its_own_address_list() -> None:
    plain = World("postgresql://db", "amqp://one/v", cast(Any, None))
    assert [plain.broker_for(p) for p in range(3)] == ["amqp://one/v"] * 3
    cluster = World("postgresql://db", "amqp://a,b,c", cast(Any, None), addresses=lambda p: f"list {p % 3}")
    assert [cluster.broker_for(p) for p in range(4)] == ["list 0", "list 1", "list 2", "list 0"]


def test_the_stub_posts_receipts_only_where_asked_and_with_the_token_notify_expects() -> None:
    assert StubOptions(callbacks=False, callback_delay=0.2).arguments("http://n/notifications/status") == []
    with_receipts = StubOptions(callback_delay=0.2, seed=7).arguments("http://n/notifications/status")
    assert with_receipts == [
        "--callback-url", "http://n/notifications/status", "--callback-token", CALLBACK_TOKEN,
        "--callback-delay", "0.2", "--seed", "7",
    ]  # fmt: skip
    assert StubOptions(rate_limit_per_minute=600).arguments(None) == ["--rate-limit-per-minute", "600"]
