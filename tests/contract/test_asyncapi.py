"""The committed contract documents match the code: each service's AsyncAPI and the message catalogue."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from contracts import topology

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = _generator()


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    return {service: generate.asyncapi(service) for service in topology.SERVICES}


@pytest.mark.parametrize("service", topology.SERVICES)
def test_committed_asyncapi_is_current(service: str, documents: dict[str, dict[str, Any]]) -> None:
    committed = generate.ASYNCAPI_DIR / f"{service}.json"
    assert committed.exists(), f"{committed} is missing: run `make docs`"
    assert committed.read_text() == generate.render_json(documents[service]), (
        f"docs/asyncapi/{service}.json is stale: run `make docs` and commit the result"
    )


def test_committed_message_catalogue_is_current() -> None:
    assert generate.CATALOGUE.read_text() == generate.catalogue(), "docs/messages.md is stale: run `make docs`"


def test_the_documents_are_the_same_from_run_to_run(documents: dict[str, dict[str, Any]]) -> None:
    again = generate.asyncapi("sessions")
    assert generate.render_json(again) == generate.render_json(documents["sessions"])


@pytest.mark.parametrize("service", topology.SERVICES)
def test_asyncapi_lists_every_queue_read_and_every_message_published(
    service: str, documents: dict[str, dict[str, Any]]
) -> None:
    channels = [c["bindings"]["amqp"] | {"address": c["address"]} for c in documents[service]["channels"].values()]
    read = {c["queue"]["name"] for c in channels if c["is"] == "queue"}
    assert read == {b.queue for b in topology.bindings(service)}
    publishing = {(c["exchange"]["name"], c["address"]) for c in channels if c["is"] == "routingKey"}
    routes = [topology.route_for(m) for m in topology.published_by(service)]
    assert publishing == {(r.exchange, r.routing_key) for r in routes}
    schemas = set(documents[service]["components"]["schemas"])
    assert {m.__name__ for m in topology.published_by(service)} <= schemas


def test_the_catalogue_names_every_routed_message_with_its_queues() -> None:
    text = generate.catalogue()
    for b in topology.all_bindings():
        assert f"`{b.message.__name__}`" in text
        assert f"`{b.queue}`" in text


def test_the_catalogue_links_only_to_schema_snapshots_that_exist() -> None:
    text = generate.catalogue()
    for link in {part.split(")", 1)[0] for part in text.split("](../shared/schemas/")[1:]}:
        assert (ROOT / "shared" / "schemas" / link).exists(), link


def test_every_document_is_valid_json_with_its_service_title() -> None:
    for service in topology.SERVICES:
        document = json.loads((generate.ASYNCAPI_DIR / f"{service}.json").read_text())
        assert document["asyncapi"].startswith("3.")
        assert service in document["info"]["title"]
