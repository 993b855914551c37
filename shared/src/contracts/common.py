"""Value types that several services' messages share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

# C0 and C1 control characters and DEL, and the invisible characters that reorder or break a line (the
# bidirectional marks, embeddings, overrides and isolates; the line and paragraph separators). A terminal
# or a page obeys them (ESC clears a screen, U+202E reverses what follows), and no name ever holds one.
# Written as escapes so that every regex dialect reading the schema (ECMA 262, Python, Rust) agrees.
CONTROL_CHARACTERS = r"\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
# How the JSON Schema of a field that refuses them documents it.
PRINTABLE_PATTERN = f"^[^{CONTROL_CHARACTERS}]*$"
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")


def control_character_in(text: str) -> int | None:
    """The position of the first control character in `text`, if it holds one."""
    found = _CONTROL.search(text)
    return found.start() if found else None


@dataclass(frozen=True, slots=True)
class _NoControlCharacters:
    """Refuses text holding a control character, saying which and where; documented as a pattern."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(_refuse_control, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {**handler(schema), "pattern": PRINTABLE_PATTERN}


def _refuse_control(text: str) -> str:
    position = control_character_in(text)
    if position is not None:
        raise PydanticCustomError(
            "control_character",
            "must not contain control characters (U+{code} at position {position})",
            {"code": f"{ord(text[position]):04X}", "position": position},
        )
    return text


NoControlCharacters = _NoControlCharacters()

OdsCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,10}$")]
Urn = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=300)]
# Who did something: a member of staff's name as given (`--by`), recorded and shown back to staff.
Actor = Annotated[str, StringConstraints(min_length=1, max_length=200), NoControlCharacters]
# An Actor as a reply reads it back from storage: a name recorded before Actor refused control characters
# must still be shown (escaped by whoever prints it), not turn the reply into an error.
RecordedActor = Annotated[str, StringConstraints(min_length=1, max_length=200)]
# A child's or parent's name: as long as the cohort importer allows (MAX_NAME_LENGTH), never longer.
PersonName = Annotated[str, StringConstraints(max_length=300), NoControlCharacters]
AcademicYear = Annotated[int, Field(ge=2000, le=2100)]
PageSize = Annotated[int, Field(ge=1, le=500)]

URN_UNKNOWN_SCHOOL = "888888"
URN_HOME_EDUCATED = "999999"
CLINIC_URNS = frozenset({URN_UNKNOWN_SCHOOL, URN_HOME_EDUCATED})

# Bulk messages carry at most this many items so one message stays well under a megabyte.
MAX_BATCH = 1000


class Programme(StrEnum):
    FLU = "flu"
    HPV = "hpv"
    MENACWY = "menacwy"
    TD_IPV = "td_ipv"
    MMR = "mmr"


Programmes = Annotated[list[Programme], Field(min_length=1, max_length=5)]


class MessageKind(StrEnum):
    CLINIC_INITIAL_INVITATION = "clinic_initial_invitation"
    CLINIC_SUBSEQUENT_INVITATION = "clinic_subsequent_invitation"
    CONSENT_CLINIC_REQUEST = "consent_clinic_request"
    CONSENT_CONFIRMATION_GIVEN = "consent_confirmation_given"
    CONSENT_CONFIRMATION_REFUSED = "consent_confirmation_refused"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
