"""Consent status of one child and programme from the responses of several parents (Mavis's rules).

Mavis `StatusGenerator::Consent`: each parent's latest response counts; all given with a vaccine method in
common is given; all refused outright is refused; a refusal asking for a follow-up with no outright refusal
is *follow-up requested*; anything else (given and refused, refused outright and a follow-up, or consent
with no method in common) is conflicting.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from contracts import consent as contract

Response = contract.ConsentResponse
Status = contract.ConsentStatus
Route = contract.ConsentRoute

# Website responses come from the parent's own form and implied consent only from a recorded
# vaccination, so staff may not claim either route by hand.
STAFF_ROUTES = frozenset({Route.PHONE, Route.PAPER, Route.IN_PERSON})
# What a consent without a stated method agrees to (staff and implied consent name none).
ANY_METHOD = frozenset({"nasal", "injection"})


@dataclass(frozen=True, slots=True)
class ConsentResponse:
    """One response for a child and programme in an academic year, from a parent (or unknown)."""

    consent_id: uuid.UUID
    child_id: uuid.UUID
    team_ods: str
    programme: str
    academic_year: int
    response: Response
    route: Route
    parent_id: uuid.UUID | None
    recorded_by: str
    recorded_at: datetime
    # Online responses: the methods agreed to (empty: any), whether a refusal asks for a follow-up, and who
    # answered when they are none of the child's parents on record (a key of their contact details).
    vaccine_methods: tuple[str, ...] = ()
    follow_up_requested: bool = False
    respondent: str | None = None
    form_response_id: uuid.UUID | None = None

    @property
    def who(self) -> uuid.UUID | str | None:
        return self.parent_id or self.respondent

    @property
    def answer(self) -> Response:
        # A withdrawal is a refusal that follows consent: it supersedes the parent's earlier "given".
        return Response.REFUSED if self.response is Response.WITHDRAWN else self.response

    @property
    def hard_refusal(self) -> bool:
        return self.answer is Response.REFUSED and not self.follow_up_requested

    @property
    def methods(self) -> frozenset[str]:
        return frozenset(self.vaccine_methods) or ANY_METHOD


def counted(responses: Iterable[ConsentResponse]) -> list[ConsentResponse]:
    """Each respondent's latest response, after the last one staff recorded without naming a parent.

    Staff who record an answer for the family (by phone, on paper, in person) settle what came before; a tie
    in `recorded_at` keeps the later one in the given order (storage order).
    """
    ordered = sorted(enumerate(responses), key=lambda pair: (pair[1].recorded_at, pair[0]))
    latest: dict[uuid.UUID | str | None, ConsentResponse] = {}
    for _, r in ordered:
        if r.route in STAFF_ROUTES and r.parent_id is None:
            latest.clear()
        latest[r.who] = r
    return list(latest.values())


def consent_status(responses: Iterable[ConsentResponse]) -> Status:
    """Status of one child and programme (Mavis `StatusGenerator::Consent#status`)."""
    latest = counted(responses)
    if not latest:
        return Status.NO_RESPONSE
    given = [r for r in latest if r.answer is Response.GIVEN]
    hard = any(r.hard_refusal for r in latest)
    follow_up = any(r.answer is Response.REFUSED and r.follow_up_requested for r in latest)
    if len(given) == len(latest):
        common = frozenset.intersection(*(r.methods for r in given))
        return Status.GIVEN if common else Status.CONFLICTING
    if not given and not follow_up:
        return Status.REFUSED
    if follow_up and not hard:
        return Status.FOLLOW_UP_REQUESTED
    return Status.CONFLICTING


def agreed_methods(responses: Iterable[ConsentResponse]) -> tuple[str, ...]:
    """The vaccine methods every counted consent agrees to (nasal first), when the status is given."""
    latest = counted(responses)
    if not latest or any(r.answer is not Response.GIVEN for r in latest):
        return ()
    common = frozenset.intersection(*(r.methods for r in latest))
    return tuple(m for m in ("nasal", "injection") if m in common)
