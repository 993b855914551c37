"""Each cheaper reading of a bulk message accepts exactly what the message's own schema accepts."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from contracts import bulk
from contracts.envelope import Message

pytestmark = pytest.mark.unit

READINGS: list[type[Message]] = [
    bulk.ChildrenUpsertedRows,
    bulk.ChildrenJoinedClinicCohortRows,
    bulk.InviteToClinicRows,
    bulk.InvitationsScheduledRows,
]


def _normal(schema: Any) -> Any:
    """The schema with what does not change what it accepts taken out: titles, descriptions, defaults and
    the names of its definitions (a reading's item types are named ...Row)."""
    if isinstance(schema, dict):
        return {
            k.removesuffix("Row"): _normal(v) for k, v in schema.items() if k not in ("title", "description", "default")
        }
    if isinstance(schema, list):
        return [_normal(v) for v in schema]
    if isinstance(schema, str) and schema.startswith("#/$defs/"):
        return schema.removesuffix("Row")
    return schema


@pytest.mark.parametrize("reading", READINGS, ids=lambda r: r.__name__)
def test_a_reading_accepts_what_its_message_accepts(reading: type[Message]) -> None:
    message = reading.__mro__[1]
    assert _normal(reading.model_json_schema()) == _normal(message.model_json_schema())
    assert reading.model_json_schema()["title"] == message.__name__  # what AsyncAPI documents


def test_a_reading_rejects_what_the_message_rejects() -> None:
    child = {"child_id": str(uuid.uuid4()), "team_ods": "not an ODS code", "first_name": "A", "last_name": "B",
             "date_of_birth": "2015-03-14", "school_urn": "999999"}  # fmt: skip
    body = json.dumps({"children": [child]})
    for model in (bulk.ChildrenUpsertedRows, bulk.ChildrenUpsertedRows.__mro__[1]):
        with pytest.raises(ValueError, match="team_ods"):
            model.model_validate_json(body)  # type: ignore[attr-defined]
