"""Translation at the border: contract messages in, domain objects, and contract messages and replies out."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from consent import domain, matching
from consent.domain import Membership
from consent.repository import ClinicSession, ConsentRequest
from consent.status import Response, counted
from contracts.bulk import ChildrenJoinedClinicCohortRows, ChildSnapshotRow
from contracts.common import MessageKind, Programme
from contracts.consent import ConsentRecorded, ConsentRequested, RecordConsent
from contracts.consent import SendParentMessage as SendParentMessageCommand
from contracts.envelope import Message
from contracts.sessions import ClinicDatesChanged, SessionKind, VaccinationOutcome, VaccinationRecorded


def child_from_snapshot(s: ChildSnapshotRow) -> domain.Child:
    parents = tuple(
        domain.Parent(
            parent_id=p["parent_id"],
            has_email=bool((p.get("email") or "").strip()),
            has_phone=bool((p.get("phone") or "").strip()),
            receive_updates=p.get("receive_updates", False),
            email_key=matching.email_key(p.get("email")),
            phone_key=matching.phone_key(p.get("phone")),
        )
        for p in s.get("parents", ())
    )
    flags = (
        s.get("deceased", False),
        s.get("restricted", False),
        s.get("invalidated", False),
        s.get("archived", False),
    )
    key = matching.child_key(s["first_name"], s["last_name"], s["date_of_birth"], s.get("postcode"))
    deceased, restricted, invalidated, archived = flags
    return domain.Child(
        s["child_id"],
        s["team_ods"],
        deceased,
        restricted,
        invalidated,
        archived,
        parents,
        key,
        first_name=s["first_name"],
        last_name=s["last_name"],
    )


def memberships_from(event: ChildrenJoinedClinicCohortRows) -> list[Membership]:
    return [
        Membership(
            j["child_id"], j["team_ods"], j["academic_year"], tuple(p.value for p in j["programmes"]), j["joined_on"]
        )
        for j in event.joins
    ]


def clinic_session_from(event: ClinicDatesChanged) -> ClinicSession:
    return ClinicSession(
        session_id=event.session_id,
        team_ods=event.team_ods,
        academic_year=event.academic_year,
        programmes=tuple(p.value for p in event.programmes),
        last_date=event.last_date,
        closes_on=domain.window_closes_on(event.last_date, event.consent_window_closes_on),
    )


def response_from(
    command: RecordConsent, *, consent_id: uuid.UUID, academic_year: int, now: datetime
) -> domain.ConsentResponse:
    return domain.ConsentResponse(
        consent_id=consent_id,
        child_id=command.child_id,
        team_ods=command.team_ods,
        programme=command.programme.value,
        academic_year=academic_year,
        response=command.response,
        route=command.route,
        parent_id=command.parent_id,
        recorded_by=command.recorded_by,
        recorded_at=now,
    )


def implies_consent(event: VaccinationRecorded) -> bool:
    """A clinic vaccination given with the parent there is the parent's consent."""
    return (
        event.session_kind is SessionKind.CLINIC
        and event.parent_present
        and event.outcome is VaccinationOutcome.VACCINATED
    )


def consent_recorded(response: domain.ConsentResponse, status: domain.Status, *, cause: Message) -> ConsentRecorded:
    return ConsentRecorded(
        consent_id=response.consent_id,
        child_id=response.child_id,
        team_ods=response.team_ods,
        programme=Programme(response.programme),
        academic_year=response.academic_year,
        response=response.response,
        route=response.route,
        parent_id=response.parent_id,
        recorded_by=response.recorded_by,
        recorded_at=response.recorded_at,
        status=status,
        **cause.caused_by(cause),
    )


def confirmation_message(
    response: domain.ConsentResponse, confirmation: domain.Confirmation, *, cause: Message
) -> SendParentMessageCommand:
    given = confirmation.response is domain.Response.GIVEN
    return SendParentMessageCommand(
        child_id=response.child_id,
        team_ods=response.team_ods,
        kind=MessageKind.CONSENT_CONFIRMATION_GIVEN if given else MessageKind.CONSENT_CONFIRMATION_REFUSED,
        programmes=[Programme(response.programme)],
        academic_year=response.academic_year,
        parent_id=confirmation.parent_id,
        sms=confirmation.sms,
        requested_by=response.recorded_by,
        **cause.caused_by(cause),
    )


def consent_requested(request: ConsentRequest, *, cause: Message) -> ConsentRequested:
    return ConsentRequested(
        child_id=request.child_id,
        team_ods=request.team_ods,
        programmes=[Programme(p) for p in request.programmes],
        academic_year=request.academic_year,
        requested_by=request.requested_by,
        **cause.caused_by(cause),
    )


def consent_request_message(request: ConsentRequest, *, form_url: str, cause: Message) -> SendParentMessageCommand:
    # Requests go to every contactable parent on both channels: the SMS opt-in gates only confirmations.
    return SendParentMessageCommand(
        child_id=request.child_id,
        team_ods=request.team_ods,
        kind=MessageKind.CONSENT_CLINIC_REQUEST,
        programmes=[Programme(p) for p in request.programmes],
        academic_year=request.academic_year,
        parent_id=None,
        sms=True,
        requested_by=request.requested_by,
        consent_form_url=form_url,
        **cause.caused_by(cause),
    )


def request_reply_data(
    request: ConsentRequest, *, skipped: dict[str, domain.Status], duplicate: bool = False
) -> dict[str, Any]:
    return {
        "request_id": str(request.request_id),
        "child_id": str(request.child_id),
        "academic_year": request.academic_year,
        "programmes": list(request.programmes),
        "skipped": {p: s.value for p, s in skipped.items()},
        "duplicate": duplicate,
    }


def response_data(r: domain.ConsentResponse) -> dict[str, Any]:
    return {
        "consent_id": str(r.consent_id),
        "programme": r.programme,
        "academic_year": r.academic_year,
        "response": r.response.value,
        "route": r.route.value,
        "parent_id": str(r.parent_id) if r.parent_id else None,
        "recorded_by": r.recorded_by,
        "recorded_at": r.recorded_at.isoformat(),
        "vaccine_methods": list(r.vaccine_methods),
        "follow_up_requested": r.follow_up_requested,
        "online_response_id": str(r.form_response_id) if r.form_response_id else None,
    }


def status_report(
    child_id: uuid.UUID,
    responses: Sequence[domain.ConsentResponse],
    memberships: Iterable[Membership],
    triage: Collection[uuid.UUID] = frozenset(),
) -> dict[str, Any]:
    """Status and responses per academic year and programme: clinic programmes plus any with a response.

    `needs_triage`: a counted online consent answered a health question yes (`triage`: those forms' ids).
    """
    keys = {(m.academic_year, p) for m in memberships for p in m.programmes}
    keys |= {(r.academic_year, r.programme) for r in responses}
    programmes = []
    for year, programme in sorted(keys, key=lambda k: (-k[0], k[1])):
        own = [r for r in responses if r.academic_year == year and r.programme == programme]
        programmes.append(
            {
                "academic_year": year,
                "programme": programme,
                "status": domain.consent_status(own).value,
                "needs_triage": any(r.form_response_id in triage for r in counted(own) if r.response is Response.GIVEN),
                "responses": [response_data(r) for r in own],
            }
        )
    return {"child_id": str(child_id), "programmes": programmes}
