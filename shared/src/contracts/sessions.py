"""Messages the sessions service publishes, and the requests it answers."""

from __future__ import annotations

import uuid
from datetime import date, time
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, HttpUrl

from contracts.common import AcademicYear, Actor, OdsCode, Programme, Programmes, RecordedActor, ShortText, Urn
from contracts.envelope import Command, Event, Query


class SessionKind(StrEnum):
    SCHOOL = "school"
    CLINIC = "clinic"


class VaccinationOutcome(StrEnum):
    VACCINATED = "vaccinated"
    NOT_VACCINATED = "not_vaccinated"


class NotVaccinatedReason(StrEnum):
    REFUSED = "refused"
    UNWELL = "unwell"
    ABSENT = "absent"
    CONTRAINDICATED = "contraindicated"
    ALREADY_HAD = "already_had"


class TeamSettings(BaseModel):
    """A SAIS team and the settings invitations are timed and worded by."""

    model_config = ConfigDict(frozen=True)

    ods_code: OdsCode
    name: ShortText
    email: EmailStr
    phone: ShortText
    booking_url: HttpUrl | None = None
    days_before_invitations: int = Field(default=21, ge=0, le=92)
    send_window_start: time = time(9, 0)
    send_window_end: time = time(19, 0)
    reply_to_id: str | None = None
    programmes: Programmes = Field(default_factory=lambda: [Programme.FLU])


class SessionState(StrEnum):
    UNSCHEDULED = "unscheduled"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class ClinicDate(BaseModel):
    """One clinic date, optionally at a real clinic venue."""

    model_config = ConfigDict(frozen=True)

    on: date
    venue_id: str | None = None


# --- events -------------------------------------------------------------------------------


class TeamUpdated(Event):
    """Published by sessions when a team or its settings are created or changed."""

    team: TeamSettings


class SchoolSessionChanged(Event):
    """Published by sessions when a school session is created or its dates change."""

    session_id: uuid.UUID
    team_ods: OdsCode
    school_urn: Urn
    programmes: Programmes
    academic_year: AcademicYear
    dates: list[date]


class ClinicDatesChanged(Event):
    """Published by sessions when a team's community clinic dates are added, amended or removed."""

    session_id: uuid.UUID
    team_ods: OdsCode
    programmes: Programmes
    academic_year: AcademicYear
    dates: list[ClinicDate]
    # The first date on or after the day it was published (Europe/London): a clinic today is still upcoming.
    first_upcoming_date: date | None
    last_date: date | None
    # Consent requests are allowed up to and including this day (the day before the last date).
    consent_window_closes_on: date | None = None


class SchoolSessionClosed(Event):
    """Published by sessions when staff close a completed school session (*Send clinic invitations*)."""

    session_id: uuid.UUID
    team_ods: OdsCode
    school_urn: Urn
    programmes: Programmes
    academic_year: AcademicYear
    closed_by: Actor


class VaccinationRecorded(Event):
    """Published by sessions when staff record the outcome of a child at a session date."""

    record_id: uuid.UUID
    child_id: uuid.UUID
    team_ods: OdsCode
    programme: Programme
    session_id: uuid.UUID
    session_kind: SessionKind
    academic_year: AcademicYear
    outcome: VaccinationOutcome
    reason: NotVaccinatedReason | None = None
    venue_id: str | None = None
    parent_present: bool = False
    performed_at: AwareDatetime
    recorded_by: Actor


# --- requests (request–reply) ---------------------------------------------------------------


class UpsertTeam(Command):
    """Create or change a team and its settings."""

    team: TeamSettings


class AddLocation(Command):
    """Add a school (by URN) or a real community clinic venue to a team."""

    team_ods: OdsCode
    location_id: ShortText
    kind: str = Field(pattern=r"^(school|community_clinic)$")
    name: ShortText


class CreateSchoolSession(Command):
    """Create a school session for a team's school, with its programmes and dates."""

    session_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    team_ods: OdsCode
    school_urn: Urn
    programmes: Programmes
    dates: list[date] = Field(min_length=1, max_length=100)


class SetClinicDates(Command):
    """Set (add, amend or remove) the dates of the team's community clinic for a year and programmes."""

    team_ods: OdsCode
    academic_year: AcademicYear
    programmes: Programmes
    dates: list[ClinicDate] = Field(max_length=200)


class CloseSchoolSession(Command):
    """Close a completed school session so its unvaccinated children are invited to a clinic."""

    session_id: uuid.UUID
    closed_by: Actor


class RecordVaccination(Command):
    """Record the outcome of a child at a session date."""

    record_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    child_id: uuid.UUID
    session_id: uuid.UUID
    programme: Programme
    outcome: VaccinationOutcome
    reason: NotVaccinatedReason | None = None
    venue_id: str | None = None
    parent_present: bool = False
    recorded_by: Actor
    # When the child was seen; defaults to now. Its Europe/London date must be one of the session's dates.
    performed_at: AwareDatetime | None = None
    # A second outcome of the same child, programme and day is refused unless staff confirm it is meant
    # (never recorded twice silently).
    confirm_repeat: bool = False


class GetSession(Query):
    """Read one session: kind, state, dates and programmes."""

    session_id: uuid.UUID


class GetClinicSession(Query):
    """Read a team's community clinic session for a year and programme set."""

    team_ods: OdsCode
    academic_year: AcademicYear
    programmes: Programmes


# --- reply data (the `data` of a successful `Reply` to the requests above) -------------------


class LocationDetails(BaseModel):
    """A school or real community clinic venue of a team (reply to AddLocation)."""

    model_config = ConfigDict(frozen=True)

    team_ods: OdsCode
    location_id: ShortText
    kind: str
    name: ShortText


class SessionDetails(BaseModel):
    """A session and its state today in Europe/London (reply to session commands and queries)."""

    model_config = ConfigDict(frozen=True)

    session_id: uuid.UUID
    kind: SessionKind
    state: SessionState
    team_ods: OdsCode
    academic_year: AcademicYear
    programmes: Programmes
    dates: list[ClinicDate]
    school_urn: Urn | None = None
    first_upcoming_date: date | None = None
    last_date: date | None = None
    consent_window_closes_on: date | None = None
    closed_at: AwareDatetime | None = None
    closed_by: RecordedActor | None = None
    # The school's name, as the team's locations have it (school sessions).
    school_name: str | None = None
    # True when a CloseSchoolSession found the session closed already: nothing new was sent.
    already_closed: bool = False


class VaccinationDetails(BaseModel):
    """A recorded outcome of a child at a session date (reply to RecordVaccination)."""

    model_config = ConfigDict(frozen=True)

    record_id: uuid.UUID
    child_id: uuid.UUID
    team_ods: OdsCode
    programme: Programme
    session_id: uuid.UUID
    session_kind: SessionKind
    academic_year: AcademicYear
    outcome: VaccinationOutcome
    reason: NotVaccinatedReason | None = None
    venue_id: str | None = None
    parent_present: bool = False
    performed_at: AwareDatetime
    recorded_by: RecordedActor


class ListTeamSchools(Query):
    """The schools of a team (its locations of kind school), for a parent choosing their child's school.

    Replies `{"team_ods", "schools": [{"urn", "name"}]}` sorted by name; fails `not_found` for an unknown team.
    """

    team_ods: OdsCode
