"""Committed JSON Schema snapshots match the code, and no change breaks a tolerant reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts import snapshots, topology
from contracts.envelope import Message
from contracts.retired import RETIRED

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", sorted(snapshots.current_schemas()))
def test_schema_snapshot_is_current_and_changes_are_additive(name: str) -> None:
    path = snapshots.SCHEMA_DIR / name
    current = snapshots.current_schemas()[name]
    assert path.exists(), f"{name} has no committed snapshot: run `make schemas` and commit shared/schemas"
    committed = json.loads(path.read_text())
    breaking = snapshots.breaking_changes(committed, current)
    assert not breaking, f"{name} changed incompatibly ({breaking}); publish a new …V2 message instead"
    assert committed == current, f"{name} changed additively: run `make schemas` and commit shared/schemas"


def test_no_committed_snapshot_without_a_message() -> None:
    names = {p.name for p in snapshots.SCHEMA_DIR.glob("*.json")}
    gone = names - set(snapshots.current_schemas())
    assert not gone, f"{sorted(gone)} lost their messages: a removal breaks readers, so retire them (retired.RETIRED)"
    assert names == set(snapshots.current_schemas())


def test_a_retired_message_is_gone_from_the_code_the_snapshots_and_the_queues() -> None:
    queues = {b.queue for b in topology.all_bindings()}
    for gone in RETIRED:
        name = f"{gone.producer}.{gone.name}.json"
        assert name not in snapshots.current_schemas(), f"{gone.name} is retired: its name is never used again"
        assert not (snapshots.SCHEMA_DIR / name).exists()
        assert queues.isdisjoint(gone.queues)


def test_writing_snapshots_deletes_a_retired_one_and_keeps_one_whose_message_just_vanished(tmp_path: Path) -> None:
    retired = sorted(snapshots.retired_names())[0]
    for name in (retired, "notify.NoLongerInTheCode.json"):
        (tmp_path / name).write_text("{}")
    left = snapshots.write(tmp_path)
    assert left == ["notify.NoLongerInTheCode.json"]
    assert not (tmp_path / retired).exists() and (tmp_path / "notify.NoLongerInTheCode.json").exists()
    assert {p.name for p in tmp_path.glob("*.json")} == {*snapshots.current_schemas(), *left}


def test_removing_a_field_or_requiring_a_new_one_is_breaking() -> None:
    old = {"properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["a"]}
    new = {"properties": {"a": {"type": "string"}, "c": {"type": "string"}}, "required": ["a", "c"]}
    assert snapshots.breaking_changes(old, new) == ["b: removed", "c: newly required"]


def test_adding_an_optional_field_is_additive() -> None:
    old = {"properties": {"a": {"type": "string"}}, "required": ["a"]}
    new = {"properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a"]}
    assert snapshots.breaking_changes(old, new) == []


@pytest.mark.parametrize("message", snapshots.all_messages(), ids=lambda m: m.__name__)
def test_every_message_has_a_docstring_and_a_route(message: type[Message]) -> None:
    assert message.__doc__, f"{message.__name__} needs a one-line docstring saying who publishes it and when"
    route = topology.request_route(message) if topology.is_request(message) else topology.route_for(message)
    assert route.routing_key.startswith(f"{topology.producer_of(message)}.")


def test_every_consumed_or_answered_message_is_routable_and_named_by_the_scheme() -> None:
    for b in topology.all_bindings():
        assert b.queue == f"{b.consumer}.{topology.snake(b.message.__name__)}"
        assert b.dead_letter_queue == f"{b.queue}.dlq"
        assert b.queue_arguments["x-delivery-limit"] == topology.DELIVERY_LIMIT


def test_envelope_is_utc_and_tolerates_unknown_fields() -> None:
    from contracts.sessions import GetSession

    body = GetSession(session_id="00000000-0000-0000-0000-000000000001").model_dump(mode="json")
    body["occurred_at"] = "2026-06-01T10:00:00+01:00"
    body["added_by_a_newer_producer"] = 1
    parsed = GetSession.model_validate(body)
    assert parsed.occurred_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert parsed.occurred_at.hour == 9
    assert parsed.type == "GetSession"
