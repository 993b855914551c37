"""Consent rules: status from parents' responses, the consent window, and who may be asked or told."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

# Status rules live in consent.status; their names are the domain's too (explicit re-exports).
from consent.status import STAFF_ROUTES as STAFF_ROUTES
from consent.status import ConsentResponse as ConsentResponse
from consent.status import Response as Response
from consent.status import Route as Route
from consent.status import Status as Status
from consent.status import consent_status as consent_status
from msgkit.clock import readable

# Refusal codes (stable: programs branch on them).
NOT_FOUND = "not_found"
WINDOW_CLOSED = "consent_window_closed"
ALREADY_RESPONDED = "already_responded"
NO_CONTACTABLE_PARENTS = "no_contactable_parents"
DO_NOT_CONTACT = "do_not_contact"
INVALID_ROUTE = "invalid_route"
UNKNOWN_PARENT = "unknown_parent"

# Implied consent ids derive from the vaccination record, so a redelivered event maps to one response.
IMPLIED_CONSENT_NAMESPACE = uuid.UUID("5d0f3c52-2b5e-4c8e-9a51-7f0c2f6f3e11")


def statuses_by_programme(responses: Sequence[ConsentResponse], programmes: Iterable[str]) -> dict[str, Status]:
    return {p: consent_status(r for r in responses if r.programme == p) for p in programmes}


def implied_consent(
    *,
    record_id: uuid.UUID,
    child_id: uuid.UUID,
    team_ods: str,
    programme: str,
    academic_year: int,
    recorded_by: str,
    performed_at: datetime,
) -> ConsentResponse:
    """Consent given by the parent who brought the child to a clinic vaccination."""
    return ConsentResponse(
        consent_id=uuid.uuid5(IMPLIED_CONSENT_NAMESPACE, str(record_id)),
        child_id=child_id,
        team_ods=team_ods,
        programme=programme,
        academic_year=academic_year,
        response=Response.GIVEN,
        route=Route.IN_PERSON_IMPLIED,
        parent_id=None,
        recorded_by=recorded_by,
        recorded_at=performed_at,
    )


@dataclass(frozen=True, slots=True)
class Parent:
    parent_id: uuid.UUID
    has_email: bool
    has_phone: bool
    receive_updates: bool
    email_key: str | None = None
    phone_key: str | None = None

    @property
    def contactable(self) -> bool:
        return self.has_email or self.has_phone


@dataclass(frozen=True, slots=True)
class Child:
    """The local copy of a child: team, do-not-contact flags and how their parents may be reached."""

    child_id: uuid.UUID
    team_ods: str
    deceased: bool = False
    restricted: bool = False
    invalidated: bool = False
    archived: bool = False
    parents: tuple[Parent, ...] = field(default_factory=tuple)
    match_key: str | None = None
    first_name: str | None = None
    last_name: str | None = None

    @property
    def do_not_contact(self) -> bool:
        return self.deceased or self.restricted or self.invalidated or self.archived

    @property
    def confirmations_blocked(self) -> bool:
        # Confirmations answer something the parent just did, so archiving alone does not stop them.
        return self.deceased or self.restricted or self.invalidated

    def parent(self, parent_id: uuid.UUID) -> Parent | None:
        return next((p for p in self.parents if p.parent_id == parent_id), None)


@dataclass(frozen=True, slots=True)
class Membership:
    """A child's place in a team's clinic cohort for an academic year, and for which programmes."""

    child_id: uuid.UUID
    team_ods: str
    academic_year: int
    programmes: tuple[str, ...]
    joined_on: date


def merge_memberships(memberships: Iterable[Membership]) -> list[Membership]:
    """One membership per child, team and year: its programmes all of theirs, from the earliest start.

    Joining again for more programmes widens a membership (bulk.upsert_memberships does the same in SQL
    against the memberships already stored).
    """
    merged: dict[tuple[uuid.UUID, str, int], Membership] = {}
    for m in memberships:
        key = (m.child_id, m.team_ods, m.academic_year)
        before = merged.get(key)
        programmes = tuple(sorted({*m.programmes, *(before.programmes if before else ())}))
        joined_on = min(m.joined_on, before.joined_on) if before else m.joined_on
        merged[key] = Membership(m.child_id, m.team_ods, m.academic_year, programmes, joined_on)
    return list(merged.values())


@dataclass(frozen=True, slots=True)
class ClinicWindow:
    """One clinic session of a team: its programmes and the day its consent window closes."""

    programmes: frozenset[str]
    closes_on: date | None


def window_closes_on(last_date: date | None, announced: date | None = None) -> date | None:
    """The last day consent may be requested (inclusive): as sessions announces it, else the day before the
    last clinic date (Mavis `close_consent_at`; open while today <= it)."""
    if announced is not None:
        return announced
    return None if last_date is None else last_date - timedelta(days=1)


def closing_day(windows: Iterable[ClinicWindow], programme: str) -> date | None:
    """The latest closing day among the clinics offering `programme` (None: no clinic dates)."""
    days = [w.closes_on for w in windows if programme in w.programmes and w.closes_on is not None]
    return max(days, default=None)


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class RequestPlan:
    """What a consent request will ask for, and which programmes it leaves out because of a response."""

    programmes: tuple[str, ...]
    skipped: dict[str, Status]


def _unknown_child(team_ods: str) -> Refusal:
    return Refusal(NOT_FOUND, f"unknown child: no child with that id in team {team_ods}")


def plan_consent_request(
    *,
    child: Child | None,
    team_ods: str,
    statuses: dict[str, Status],
    windows: Sequence[ClinicWindow],
    today: date,
) -> RequestPlan | Refusal:
    """Decide a *Send consent request*: the programmes to ask about, or why it is refused.

    `statuses` holds the requested programmes. Programmes that already have a response are left out;
    the request is refused only if none remain.
    """
    if child is None or child.team_ods != team_ods:
        return _unknown_child(team_ods)
    if child.do_not_contact:
        return Refusal(DO_NOT_CONTACT, "the child is deceased, restricted, invalidated or archived")
    wanted = tuple(p for p, s in statuses.items() if s is Status.NO_RESPONSE)
    if not wanted:
        answered = ", ".join(f"{p}: {s}" for p, s in statuses.items())
        return Refusal(ALREADY_RESPONDED, f"consent already has a response ({answered})")
    for programme in wanted:
        closes = closing_day(windows, programme)
        if closes is None:
            return Refusal(WINDOW_CLOSED, f"consent window closed: no clinic dates for {programme}")
        if today > closes:
            last_day = readable(closes)
            return Refusal(WINDOW_CLOSED, f"consent window for {programme} is closed: the last day was {last_day}")
    if not any(p.contactable for p in child.parents):
        return Refusal(NO_CONTACTABLE_PARENTS, "the child has no parent with an email address or phone number")
    skipped: dict[str, Status] = {p: s for p, s in statuses.items() if s is not Status.NO_RESPONSE}
    return RequestPlan(programmes=wanted, skipped=skipped)


def check_staff_response(
    *, child: Child | None, team_ods: str, route: Route, parent_id: uuid.UUID | None
) -> Refusal | None:
    """Why staff may not record this response, or None if they may."""
    if route not in STAFF_ROUTES:
        allowed = ", ".join(sorted(STAFF_ROUTES))
        return Refusal(INVALID_ROUTE, f"staff record responses by {allowed}, not {route}")
    if child is None or child.team_ods != team_ods:
        return _unknown_child(team_ods)
    if parent_id is not None and child.parent(parent_id) is None:
        return Refusal(UNKNOWN_PARENT, "that parent is not one of the child's parents")
    return None


@dataclass(frozen=True, slots=True)
class Confirmation:
    """A confirmation to send after a response: to one parent when known, else to all of them."""

    response: Response
    parent_id: uuid.UUID | None
    sms: bool


def confirmation_for(child: Child, response: ConsentResponse) -> Confirmation | None:
    """Email always; SMS only to a parent who opted in to updates. None when nobody may be told.

    With no parent named and one on record, that parent is told. With several, all are emailed and
    none texted, since the opt-in is per parent and one message carries one SMS flag.
    """
    if child.confirmations_blocked:
        return None
    parent = child.parent(response.parent_id) if response.parent_id else None
    if parent is None and len(child.parents) == 1:
        parent = child.parents[0]
    if parent is not None:
        if not parent.contactable:
            return None
        return Confirmation(response.response, parent.parent_id, sms=parent.receive_updates and parent.has_phone)
    if not any(p.contactable for p in child.parents):
        return None
    return Confirmation(response.response, None, sms=False)
