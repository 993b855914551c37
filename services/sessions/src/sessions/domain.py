"""Sessions, their dates and states, closing, and vaccination records: pure rules, no IO."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# The contract's vocabularies are the domain's: one list of session kinds, states and outcomes.
from contracts.sessions import SessionKind as SessionKind
from contracts.sessions import SessionState as SessionState
from contracts.sessions import VaccinationOutcome
from msgkit.clock import LONDON, academic_year_of, readable

Outcome = VaccinationOutcome
UNKNOWN_VENUE = "unknown"


class Refused(Exception):
    """A request the rules do not allow: a stable code for programs and a sentence for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def long_date(day: date) -> str:
    """A date in a sentence about sessions: its weekday matters to staff planning, then the one readable form."""
    return f"{day:%A} {readable(day)}"


def academic_year_label(year: int) -> str:
    return f"{year}/{str(year + 1)[-2:]} (1 September {year} to 31 August {year + 1})"


def programme_set(programmes: Iterable[str]) -> tuple[str, ...]:
    """Programme sets are compared regardless of order and repetition."""
    return tuple(sorted({str(p) for p in programmes}))


def session_state(dates: Iterable[date], today: date) -> SessionState:
    """A session's state on `today` (a Europe/London date): see SPEC §2.2."""
    days = set(dates)
    if not days:
        return SessionState.UNSCHEDULED
    if today in days:
        return SessionState.IN_PROGRESS
    if today > max(days):
        return SessionState.COMPLETED
    return SessionState.SCHEDULED


@dataclass(frozen=True, slots=True, order=True)
class SessionDate:
    on: date
    venue_id: str | None = None


@dataclass(frozen=True, slots=True)
class Vaccination:
    record_id: uuid.UUID
    child_id: uuid.UUID
    team_ods: str
    programme: str
    session_id: uuid.UUID
    session_kind: SessionKind
    academic_year: int
    session_date: date
    outcome: Outcome
    reason: str | None
    venue_id: str | None
    parent_present: bool
    performed_at: datetime
    recorded_by: str

    def repeats(
        self,
        *,
        child_id: uuid.UUID,
        session_id: uuid.UUID,
        programme: str,
        outcome: Outcome,
        reason: str | None,
        parent_present: bool,
    ) -> bool:
        """Whether a request with this record's id says the same (when and where may have been defaulted)."""
        mine = (self.child_id, self.session_id, self.programme, self.outcome, self.reason, self.parent_present)
        return mine == (child_id, session_id, programme, outcome, reason, parent_present)


@dataclass(slots=True)
class Session:
    session_id: uuid.UUID
    team_ods: str
    kind: SessionKind
    academic_year: int
    programmes: tuple[str, ...]
    dates: tuple[SessionDate, ...] = ()
    school_urn: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    closed_by_request: uuid.UUID | None = None

    def state(self, today: date) -> SessionState:
        return session_state((d.on for d in self.dates), today)

    @property
    def last_date(self) -> date | None:
        return self.dates[-1].on if self.dates else None

    def first_upcoming_date(self, today: date) -> date | None:
        """The first date not yet over: a date that is today is still upcoming until the day ends."""
        return next((d.on for d in self.dates if d.on >= today), None)

    @property
    def consent_window_closes_on(self) -> date | None:
        last = self.last_date
        return last - timedelta(days=1) if last else None

    def set_dates(self, dates: Sequence[SessionDate], *, venues: frozenset[str], recorded: frozenset[date]) -> bool:
        """Replace the dates (add, amend, remove); False when nothing changed."""
        new = check_dates(dates, academic_year=self.academic_year, venues=venues)
        removed = sorted(recorded - {d.on for d in new})
        if removed:
            raise Refused(
                "date_has_records",
                f"{long_date(removed[0])} has vaccinations recorded against it, so it cannot be removed.",
            )
        if new == self.dates:
            return False
        self.dates = new
        return True

    def amend_to(self, wanted: Session, *, recorded: frozenset[date]) -> bool:
        """A repeated create of a school session with the same id: same school, new programmes or dates."""
        if (wanted.kind, wanted.team_ods, wanted.school_urn) != (self.kind, self.team_ods, self.school_urn):
            raise Refused("session_id_conflict", "A different session already has this id.")
        if self.closed_at is not None:
            raise Refused("session_closed", "This school session is closed; its dates can no longer change.")
        if wanted.academic_year != self.academic_year:
            raise Refused(
                "date_outside_academic_year",
                f"The session's dates must stay in academic year {academic_year_label(self.academic_year)}.",
            )
        dates_changed = self.set_dates(wanted.dates, venues=frozenset(), recorded=recorded)
        programmes_changed, self.programmes = wanted.programmes != self.programmes, wanted.programmes
        return dates_changed or programmes_changed

    def close(self, *, by: str, at: datetime, today: date, request: uuid.UUID | None = None) -> bool:
        """Close a completed school session; False if it was already closed."""
        if self.kind is not SessionKind.SCHOOL:
            raise Refused("not_a_school_session", "Only school sessions are closed; this is a community clinic.")
        if self.closed_at is not None:
            return False
        if self.state(today) is not SessionState.COMPLETED:
            raise Refused("session_not_completed", self._not_completed_sentence(today))
        self.closed_at, self.closed_by, self.closed_by_request = at, by, request
        return True

    def _not_completed_sentence(self, today: date) -> str:
        last = self.last_date
        if last is None:
            return "The session has no dates, so it cannot be completed or closed."
        return (
            f"The session is not completed: its last date is {long_date(last)}, "
            f"so it can be closed from {long_date(last + timedelta(days=1))} (today is {long_date(today)})."
        )

    def record(
        self,
        *,
        record_id: uuid.UUID,
        child_id: uuid.UUID,
        programme: str,
        outcome: Outcome,
        reason: str | None,
        venue_id: str | None,
        parent_present: bool,
        performed_at: datetime,
        recorded_by: str,
        now: datetime,
        venues: frozenset[str],
    ) -> Vaccination:
        """The outcome of a child at one of this session's dates, checked against the session's rules."""
        day = performed_at.astimezone(LONDON).date()
        if performed_at > now:
            raise Refused("performed_in_future", "A vaccination cannot be recorded for a time that has not come yet.")
        if day not in {d.on for d in self.dates}:
            raise Refused("not_a_session_date", f"{long_date(day)} is not a date of this session.")
        if programme not in self.programmes:
            raise Refused("programme_not_in_session", f"This session does not offer {programme}.")
        check_outcome(outcome, reason)
        return Vaccination(
            record_id=record_id,
            child_id=child_id,
            team_ods=self.team_ods,
            programme=programme,
            session_id=self.session_id,
            session_kind=self.kind,
            academic_year=self.academic_year,
            session_date=day,
            outcome=outcome,
            reason=reason,
            venue_id=self._venue_for(venue_id, outcome, parent_present=parent_present, day=day, venues=venues),
            parent_present=parent_present,
            performed_at=performed_at,
            recorded_by=recorded_by,
        )

    def _venue_for(
        self, venue_id: str | None, outcome: Outcome, *, parent_present: bool, day: date, venues: frozenset[str]
    ) -> str | None:
        if self.kind is SessionKind.SCHOOL:
            if parent_present:
                raise Refused("parent_present_at_school", "'Parent present' applies only at community clinics.")
            if venue_id not in (None, self.school_urn):
                raise Refused("wrong_venue", f"A school session's vaccinations are at school {self.school_urn}.")
            return self.school_urn
        # Never the virtual clinic: a real venue of the team, the day's venue, or explicitly unknown.
        venue = venue_id or next((d.venue_id for d in self.dates if d.on == day), None)
        if venue is None:
            if outcome is Outcome.VACCINATED:
                raise Refused(
                    "venue_required",
                    f"Say where the vaccination was given: one of the team's clinic venues or {UNKNOWN_VENUE!r}.",
                )
            return None
        if venue != UNKNOWN_VENUE and venue not in venues:
            raise Refused("unknown_venue", _unknown_venue_sentence(venue, self.team_ods))
        return venue


def check_outcome(outcome: Outcome, reason: str | None) -> None:
    if outcome is Outcome.NOT_VACCINATED and reason is None:
        raise Refused("reason_required", "Say why the child was not vaccinated.")
    if outcome is Outcome.VACCINATED and reason is not None:
        raise Refused("reason_not_allowed", "A reason is given only when the child was not vaccinated.")


def _unknown_venue_sentence(venue: str, team_ods: str) -> str:
    return (
        f"{venue!r} is not a community clinic venue of team {team_ods}; "
        f"add it as a community_clinic location first, or use {UNKNOWN_VENUE!r}."
    )


def check_dates(dates: Sequence[SessionDate], *, academic_year: int, venues: frozenset[str]) -> tuple[SessionDate, ...]:
    """Dates sorted, each once, all in the academic year, each venue a real clinic venue of the team."""
    seen: set[date] = set()
    for d in dates:
        if d.on in seen:
            raise Refused("duplicate_date", f"{long_date(d.on)} is given more than once; a session has each date once.")
        seen.add(d.on)
        if academic_year_of(d.on) != academic_year:
            raise Refused(
                "date_outside_academic_year",
                f"{long_date(d.on)} is not in academic year {academic_year_label(academic_year)}.",
            )
        if d.venue_id is not None and d.venue_id not in venues:
            raise Refused("unknown_venue", f"{long_date(d.on)}: " + _unknown_venue_sentence(d.venue_id, "the team"))
    return tuple(sorted(dates))


def new_school_session(
    *, session_id: uuid.UUID, team_ods: str, school_urn: str, programmes: Iterable[str], dates: Iterable[date]
) -> Session:
    """A school session; its academic year is the one its first date falls in."""
    days = sorted(set(dates))
    if not days:
        raise Refused("dates_required", "A school session needs at least one date.")
    year = academic_year_of(days[0])
    session = Session(
        session_id=session_id,
        team_ods=team_ods,
        kind=SessionKind.SCHOOL,
        academic_year=year,
        programmes=programme_set(programmes),
        school_urn=school_urn,
    )
    session.dates = check_dates([SessionDate(d) for d in days], academic_year=year, venues=frozenset())
    return session


def new_clinic_session(
    *, session_id: uuid.UUID, team_ods: str, academic_year: int, programmes: Iterable[str]
) -> Session:
    """The team's single community clinic session for a year and programme set; unscheduled at first."""
    return Session(
        session_id=session_id,
        team_ods=team_ods,
        kind=SessionKind.CLINIC,
        academic_year=academic_year,
        programmes=programme_set(programmes),
    )
