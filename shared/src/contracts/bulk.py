"""Cheaper readings of the bulk messages, for consumers that copy their items into tables.

Validating a thousand items into models costs a model instance per item (and per parent): a 1,000-child
ChildrenUpserted took 16.8 ms to read as models and 10.9 ms as typed dicts on this project's 2-core
machine, and five consumers read a thousand-item message for every thousand children imported. A reading
is the message's own envelope with its items as TypedDicts of the same fields, types and constraints, so it
accepts what the message accepts (tests/contract/test_bulk_readings.py compares the two schemas); the
published contract, its schema snapshot and its producers are the message's own. Optional fields may be
absent from an item, as JSON allows: read them with `.get`.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import NotRequired

from pydantic import AwareDatetime, ConfigDict, Field
from typing_extensions import TypedDict

from contracts.cohort import (
    ChildrenJoinedClinicCohort,
    ChildrenUpserted,
    ChildSnapshot,
    CohortJoin,
    InvitationKind,
    InvitationRequest,
    InvitationTrigger,
    InviteToClinic,
    JoinReason,
    ParentContact,
)
from contracts.common import MAX_BATCH, AcademicYear, Actor, OdsCode, PersonName, Programmes
from contracts.notify import InvitationsScheduled, ScheduledInvitation


def _like(model: type) -> ConfigDict:
    """An item row's config: documented with its model's title and description."""
    return ConfigDict(title=model.__name__, json_schema_extra={"description": " ".join((model.__doc__ or "").split())})


class ParentContactRow(TypedDict):
    __pydantic_config__ = _like(ParentContact)  # type: ignore[misc]

    parent_id: uuid.UUID
    name: NotRequired[PersonName | None]
    relationship: NotRequired[str | None]
    email: NotRequired[str | None]
    phone: NotRequired[str | None]
    receive_updates: NotRequired[bool]


class ChildSnapshotRow(TypedDict):
    __pydantic_config__ = _like(ChildSnapshot)  # type: ignore[misc]

    child_id: uuid.UUID
    team_ods: OdsCode
    nhs_number: NotRequired[str | None]
    first_name: PersonName
    last_name: PersonName
    date_of_birth: date
    school_urn: str
    postcode: NotRequired[str | None]
    deceased: NotRequired[bool]
    restricted: NotRequired[bool]
    invalidated: NotRequired[bool]
    archived: NotRequired[bool]
    parents: NotRequired[list[ParentContactRow]]


class CohortJoinRow(TypedDict):
    __pydantic_config__ = _like(CohortJoin)  # type: ignore[misc]

    child_id: uuid.UUID
    team_ods: OdsCode
    programmes: Programmes
    academic_year: AcademicYear
    joined_on: date
    reason: JoinReason


class InvitationRequestRow(TypedDict):
    __pydantic_config__ = _like(InvitationRequest)  # type: ignore[misc]

    child_id: uuid.UUID
    team_ods: OdsCode
    programmes: Programmes
    academic_year: AcademicYear
    trigger: InvitationTrigger
    kind: NotRequired[InvitationKind]
    reason: JoinReason
    requested_by: NotRequired[Actor | None]


class ScheduledInvitationRow(TypedDict):
    __pydantic_config__ = _like(ScheduledInvitation)  # type: ignore[misc]

    invitation_id: uuid.UUID
    child_id: uuid.UUID
    team_ods: OdsCode
    programmes: Programmes
    academic_year: AcademicYear
    kind: InvitationKind
    due_at: AwareDatetime | None


class ChildrenUpsertedRows(ChildrenUpserted):
    __doc__ = ChildrenUpserted.__doc__  # documented as the message it reads

    model_config = ConfigDict(title="ChildrenUpserted")

    children: list[ChildSnapshotRow] = Field(min_length=1, max_length=MAX_BATCH)  # type: ignore[assignment]


class ChildrenJoinedClinicCohortRows(ChildrenJoinedClinicCohort):
    __doc__ = ChildrenJoinedClinicCohort.__doc__  # documented as the message it reads

    model_config = ConfigDict(title="ChildrenJoinedClinicCohort")

    joins: list[CohortJoinRow] = Field(min_length=1, max_length=MAX_BATCH)  # type: ignore[assignment]


class InviteToClinicRows(InviteToClinic):
    __doc__ = InviteToClinic.__doc__  # documented as the message it reads

    model_config = ConfigDict(title="InviteToClinic")

    invitations: list[InvitationRequestRow] = Field(min_length=1, max_length=MAX_BATCH)  # type: ignore[assignment]


class InvitationsScheduledRows(InvitationsScheduled):
    __doc__ = InvitationsScheduled.__doc__  # documented as the message it reads

    model_config = ConfigDict(title="InvitationsScheduled")

    invitations: list[ScheduledInvitationRow] = Field(min_length=1, max_length=MAX_BATCH)  # type: ignore[assignment]
