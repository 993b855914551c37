"""Messages the cohort service publishes, and the requests it answers."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from contracts.common import MAX_BATCH, AcademicYear, Actor, OdsCode, PageSize, PersonName, Programme, Programmes
from contracts.envelope import Command, Event, Query


class JoinReason(StrEnum):
    UNKNOWN_SCHOOL = "unknown_school"
    HOME_EDUCATED = "home_educated"
    SCHOOL_SESSION_CLOSED = "school_session_closed"
    STAFF_INVITE = "staff_invite"
    WALK_IN = "walk_in"


class InvitationTrigger(StrEnum):
    AUTOMATIC = "automatic"
    STAFF = "staff"


class InvitationKind(StrEnum):
    INITIAL = "initial"
    SUBSEQUENT = "subsequent"


class ParentContact(BaseModel):
    """A parent as other services need them: how to reach them, and whether they may be reached."""

    model_config = ConfigDict(frozen=True)

    parent_id: uuid.UUID
    name: PersonName | None = None
    relationship: str | None = None
    email: str | None = None
    phone: str | None = None
    receive_updates: bool = False


class ChildSnapshot(BaseModel):
    """The current state of a child that other services keep a copy of."""

    model_config = ConfigDict(frozen=True)

    child_id: uuid.UUID
    team_ods: OdsCode
    nhs_number: str | None = None
    first_name: PersonName
    last_name: PersonName
    date_of_birth: date
    school_urn: str
    postcode: str | None = None  # as cohort holds it (e.g. "SW1A 1AA"); consent matches online responses on it
    deceased: bool = False
    restricted: bool = False
    invalidated: bool = False
    archived: bool = False
    parents: list[ParentContact] = Field(default_factory=list)


class CohortJoin(BaseModel):
    """One child joining the clinic cohort of a team for some programmes in an academic year."""

    model_config = ConfigDict(frozen=True)

    child_id: uuid.UUID
    team_ods: OdsCode
    programmes: Programmes
    academic_year: AcademicYear
    joined_on: date
    reason: JoinReason


class InvitationRequest(BaseModel):
    """What notify needs to schedule one child's clinic invitation."""

    model_config = ConfigDict(frozen=True)

    child_id: uuid.UUID
    team_ods: OdsCode
    programmes: Programmes
    academic_year: AcademicYear
    trigger: InvitationTrigger
    kind: InvitationKind = InvitationKind.INITIAL
    reason: JoinReason
    requested_by: Actor | None = None


# --- events ---------------------------------------------------------------------------------


class ChildrenUpserted(Event):
    """Published by cohort when children are imported or their details or parents change (batched)."""

    children: list[ChildSnapshot] = Field(min_length=1, max_length=MAX_BATCH)


class ChildrenJoinedClinicCohort(Event):
    """Published by cohort when children join a team's clinic cohort (batched)."""

    joins: list[CohortJoin] = Field(min_length=1, max_length=MAX_BATCH)


class ChildRemovedFromClinicCohort(Event):
    """Published by cohort when a child leaves a team's clinic cohort for a year."""

    child_id: uuid.UUID
    team_ods: OdsCode
    academic_year: AcademicYear
    reason: str


# --- commands -------------------------------------------------------------------------------


class InviteToClinic(Command):
    """Sent by cohort to notify: schedule clinic invitations for these children (batched)."""

    invitations: list[InvitationRequest] = Field(min_length=1, max_length=MAX_BATCH)


class ImportCohortChunk(Command):
    """One chunk of a cohort CSV upload: raw rows with their spreadsheet row numbers, staged until committed.

    Chunks carry the file's rows in order up to its last non-blank row (`contracts.cohort_csv`): every row
    sent is checked, a blank one too; the template's instruction row, first in the first chunk, is skipped.
    """

    import_id: uuid.UUID
    team_ods: OdsCode
    sequence: int = Field(ge=0)
    header: list[str] = Field(max_length=200)
    rows: list[tuple[int, list[str]]] = Field(max_length=5000)


class CommitCohortImport(Command):
    """Apply a staged cohort import: all rows, or nothing if any row is invalid."""

    import_id: uuid.UUID
    team_ods: OdsCode
    academic_year: AcademicYear | None = None
    programmes: list[Programme] | None = None


class ReviewDecision(StrEnum):
    """What staff decide for an import row held for review."""

    USE_UPLOAD = "use_upload"  # the existing child takes the uploaded details
    KEEP_EXISTING = "keep_existing"  # the upload is discarded
    KEEP_BOTH = "keep_both"  # they are two children: the upload becomes a new one


class DecideImportReview(Command):
    """Staff's decision on a cohort import row held for review; nothing of it is applied before this.

    *Keep both* is for a possible duplicate only: a row that matched its child by NHS number is that child.
    """

    import_id: uuid.UUID
    row_number: int = Field(ge=2)
    decision: ReviewDecision
    decided_by: Actor


class InviteChildToClinic(Command):
    """Staff's *Invite to community clinic* for one child (a repeat is a subsequent invitation)."""

    child_id: uuid.UUID
    team_ods: OdsCode
    programmes: list[Programme] | None = None
    requested_by: Actor


class AddWalkIn(Command):
    """A child who turned up at today's clinic and was not on its list."""

    child_id: uuid.UUID
    team_ods: OdsCode
    programmes: list[Programme] | None = None
    requested_by: Actor


class ChangeChildSchool(Command):
    """A child's school changed (888888 unknown and 999999 home-educated join the clinic cohort)."""

    child_id: uuid.UUID
    school_urn: str = Field(pattern=r"^\d{6}$")
    changed_by: Actor


class SetChildFlags(Command):
    """Set a child's do-not-contact flags."""

    child_id: uuid.UUID
    deceased: bool | None = None
    restricted: bool | None = None
    invalidated: bool | None = None
    archived: bool | None = None
    changed_by: Actor


# --- queries --------------------------------------------------------------------------------


class ClinicChildrenFilter(StrEnum):
    ALL = "all"
    INVITED = "invited"
    NOT_INVITED = "not_invited"
    NEEDS_CONSENT = "needs_consent"
    CONSENT_GIVEN = "consent_given"
    CONSENT_REFUSED = "consent_refused"
    VACCINATED = "vaccinated"


class PreviewClinicInvitations(Query):
    """How many children *Send clinic invitations* would invite for a school session, and who it leaves out."""

    session_id: uuid.UUID


class GetActivityLog(Query):
    """A child's activity log in time order."""

    child_id: uuid.UUID


class ListClinicChildren(Query):
    """A team's clinic children for a programme and year, filtered and paged."""

    team_ods: OdsCode
    programme: Programme
    academic_year: AcademicYear
    filter: ClinicChildrenFilter = ClinicChildrenFilter.ALL
    page: int = Field(default=1, ge=1)
    page_size: PageSize = 50
    # Keyset paging: the reply's `next_cursor`, for the page after it (with `page` left at 1). It reads as
    # fast at the thousandth page as at the first; `page` alone still works, but reads every child before.
    after: str | None = Field(default=None, min_length=1, max_length=1000)


class ListImportReviews(Query):
    """The rows of a cohort import held for staff review, each upload beside the existing child it matched,
    in row order (`after_row`: the reply's `next_after`, for the page after it)."""

    import_id: uuid.UUID
    after_row: int = Field(default=0, ge=0)
    page_size: PageSize = 50


class FindChildren(Query):
    """Find children of a team by NHS number or name."""

    team_ods: OdsCode
    nhs_number: str | None = None
    last_name: PersonName | None = None
