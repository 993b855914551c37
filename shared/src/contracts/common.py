"""Value types that several services' messages share, and the school-year rules every service reads."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
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

# --- year groups: who a programme is for ------------------------------------------------------

# Reception is year group 0; children start it in the academic year they turn five.
RECEPTION = 0
_AGE_STARTING_SCHOOL = 5
# The year groups each programme offers (the real service's Programme::DEFAULT_YEAR_GROUPS): every
# service that decides who a programme is for reads them here, and the cohort import's SQL is given
# the birth dates they stand for (`birth_dates_for`).
YEAR_GROUPS: Mapping[Programme, range] = MappingProxyType(
    {
        Programme.FLU: range(RECEPTION, 12),
        Programme.HPV: range(8, 12),
        Programme.MENACWY: range(9, 12),
        Programme.TD_IPV: range(9, 12),
        Programme.MMR: range(RECEPTION, 12),
    }
)


def birth_academic_year(date_of_birth: date) -> int:
    """The academic year (1 September to 31 August) a child was born in, which fixes their school year."""
    return date_of_birth.year if date_of_birth.month >= 9 else date_of_birth.year - 1


def year_group(date_of_birth: date, academic_year: int) -> int:
    """The child's year group in `academic_year`: 0 is reception, 11 the last year of compulsory school."""
    return academic_year - birth_academic_year(date_of_birth) - _AGE_STARTING_SCHOOL


def offers(programme: str, group: int) -> bool:
    """Whether `programme` is for children of year group `group`."""
    return group in YEAR_GROUPS[Programme(programme)]


def programmes_for(programmes: Iterable[str], group: int) -> tuple[str, ...]:
    """The programmes of these that are for year group `group`, in the order given (once each)."""
    return tuple(p for p in dict.fromkeys(programmes) if offers(p, group))


def birth_dates_for(programme: str, academic_year: int) -> tuple[date, date]:
    """The first and last date of birth of the children `programme` is for in `academic_year`."""
    groups = YEAR_GROUPS[Programme(programme)]
    oldest = academic_year - groups[-1] - _AGE_STARTING_SCHOOL
    youngest = academic_year - groups[0] - _AGE_STARTING_SCHOOL
    return date(oldest, 9, 1), date(youngest + 1, 8, 31)


class MessageKind(StrEnum):
    CLINIC_INITIAL_INVITATION = "clinic_initial_invitation"
    CLINIC_SUBSEQUENT_INVITATION = "clinic_subsequent_invitation"
    CONSENT_CLINIC_REQUEST = "consent_clinic_request"
    CONSENT_CONFIRMATION_GIVEN = "consent_confirmation_given"
    CONSENT_CONFIRMATION_REFUSED = "consent_confirmation_refused"
    # Given online with a health answer the team must review first (Mavis `consent_confirmation_triage`).
    CONSENT_CONFIRMATION_TRIAGE = "consent_confirmation_triage"
    # To a child's known parents when an online response came from contact details none of them has.
    CONSENT_UNKNOWN_CONTACT_DETAILS = "consent_unknown_contact_details_warning"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
