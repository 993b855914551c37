"""Names of people and staff never carry control characters: the contract refuses them with a clear reason."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from contracts import cohort, consent, sessions, snapshots
from contracts.common import Actor, PersonName, RecordedActor
from contracts.envelope import Message

pytestmark = pytest.mark.unit

OBEYED = ["\x00", "\t", "\n", "\x1b", "\x7f", "\x85", "\x9b", "\u061c", "\u200f", "\u2028", "\u202e", "\u2067"]
NAMES = ["Joy", "Zoë O’Brien-Ng", "محمد", "李小龙", "Ṣàngó Adé", "👩‍⚕️ Joy"]  # the last holds a zero-width joiner
# Fields that hold a person's or a member of staff's name, wherever a message carries them.
NAME_FIELDS = re.compile(r"^(.+_by|first_name|last_name)$")


@pytest.mark.parametrize("char", OBEYED, ids=lambda c: f"U+{ord(c):04X}")
def test_a_name_with_a_control_character_is_refused_saying_which_and_where(char: str) -> None:
    for kind in (Actor, PersonName):
        with pytest.raises(ValidationError) as raised:
            TypeAdapter(kind).validate_python(f"Nurse{char}Joy")
        (error,) = raised.value.errors()
        assert error["type"] == "control_character"
        assert error["msg"] == f"must not contain control characters (U+{ord(char):04X} at position 5)"


@pytest.mark.parametrize("name", NAMES)
def test_names_in_any_script_are_accepted(name: str) -> None:
    assert TypeAdapter(Actor).validate_python(name) == name
    assert TypeAdapter(PersonName).validate_python(name) == name


def test_a_person_name_is_as_long_as_the_importer_allows_and_no_longer() -> None:
    assert TypeAdapter(PersonName).validate_python("a" * 300)
    with pytest.raises(ValidationError, match="at most 300 characters"):
        TypeAdapter(PersonName).validate_python("a" * 301)


def test_the_schema_pattern_refuses_what_the_validator_refuses() -> None:
    pattern = re.compile(TypeAdapter(Actor).json_schema()["pattern"])
    assert all(pattern.match(name) for name in NAMES)
    assert not any(pattern.match(f"a{char}b") for char in OBEYED)


def test_a_reply_still_reads_back_a_name_stored_before_the_check() -> None:
    assert TypeAdapter(RecordedActor).validate_python("Nurse \x1b[2J") == "Nurse \x1b[2J"


def _name_properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for definition in [schema, *schema.get("$defs", {}).values()]:
        title = definition.get("title", "")
        for name, prop in definition.get("properties", {}).items():
            if NAME_FIELDS.match(name) or (title == "ParentContact" and name == "name"):
                found.append((f"{title}.{name}", prop))
    return found


@pytest.mark.parametrize("message", snapshots.all_messages(), ids=lambda m: m.__name__)
def test_every_name_a_message_carries_refuses_control_characters(message: type[Message]) -> None:
    for where, prop in _name_properties(message.model_json_schema()):
        strings = [p for p in prop.get("anyOf", [prop]) if p.get("type") == "string"]
        assert strings and all("pattern" in p for p in strings), f"{where} accepts control characters"


@pytest.mark.parametrize(
    ("message", "fields"),
    [
        (consent.RecordConsent, {"child_id": str(uuid.uuid4()), "team_ods": "RYG", "programme": "flu",
                                 "response": "given", "route": "phone", "recorded_by": "Nurse \x1b]0;x\x07"}),
        (sessions.CloseSchoolSession, {"session_id": str(uuid.uuid4()), "closed_by": "Nurse \u202eyoJ"}),
        (cohort.ChildrenUpserted, {"children": [{"child_id": str(uuid.uuid4()), "team_ods": "RYG",
                                   "first_name": "Ada\x1b[2J", "last_name": "L", "date_of_birth": "2015-01-01",
                                   "school_urn": "999999"}]}),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)  # fmt: skip
def test_a_message_carrying_a_control_character_in_a_name_is_refused(
    message: type[Message], fields: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError, match="must not contain control characters"):
        message.model_validate_json(json.dumps(fields))
