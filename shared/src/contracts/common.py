"""Value types that several services' messages share."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

OdsCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,10}$")]
Urn = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Actor = Annotated[str, StringConstraints(min_length=1, max_length=200)]
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
