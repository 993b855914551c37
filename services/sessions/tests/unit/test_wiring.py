"""Migrations form one numbered chain, and the AsyncAPI document lists every request and event."""

from __future__ import annotations

import re

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from contracts import topology
from sessions.app import create_app
from sessions.config import Settings
from sessions.migrate import MIGRATIONS

pytestmark = pytest.mark.unit


def test_migrations_are_numbered_in_order_with_a_single_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    assert len(scripts.get_heads()) == 1
    revisions = list(reversed(list(scripts.walk_revisions())))
    assert [r.revision for r in revisions] == [f"{n:04d}" for n in range(1, len(revisions) + 1)]
    for revision in revisions:
        assert re.fullmatch(rf"{revision.revision}_[a-z]+_[a-z_]+\.py", revision.path.rsplit("/", 1)[-1])


def test_asyncapi_lists_every_request_answered_and_event_published() -> None:
    spec = create_app(Settings(http_port=0, log_json=False)).schema.to_specification().to_jsonable()
    channels = {name.split(":", 1)[0] for name in spec["channels"]}
    answered = {topology.request_route(m).routing_key for m in topology.ANSWERS["sessions"]}
    published = {topology.route_for(m).routing_key for m in topology.published_by("sessions")}
    assert answered | published <= channels
