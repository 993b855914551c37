"""Use cases of the consent service; each owns its transaction."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from consent import domain, form_staff, links, messages
from consent.repository import ConsentRequest
from consent.uow import ConsentUnitOfWork
from consent.wiring import LinkMaker
from contracts.bulk import ChildrenJoinedClinicCohortRows, ChildrenUpsertedRows
from contracts.consent import GetConsentStatus, RecordConsent, SendConsentRequest
from contracts.envelope import Reply
from contracts.sessions import ClinicDatesChanged, TeamUpdated, VaccinationRecorded
from msgkit.clock import academic_year_of, london_date

log = logging.getLogger(__name__)


async def update_team(event: TeamUpdated, uow: ConsentUnitOfWork) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        team = event.team
        await uow.consent.upsert_team(team.ods_code, team.name, event.occurred_at, email=team.email, phone=team.phone)
        await uow.commit()


async def upsert_children(event: ChildrenUpsertedRows, uow: ConsentUnitOfWork) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        batch = [messages.child_from_snapshot(s) for s in event.children]
        changed = await uow.consent.upsert_children(batch, event.occurred_at)
        # Online responses waiting for these children (an import, or a child staff asked cohort to add).
        settled = await form_staff.settle_waiting(uow, changed, event.occurred_at, cause=event) if changed else 0
        await uow.commit()
    counts = {"received": len(batch), "changed": len(changed), "responses_matched": settled}
    log.info("children copied", extra={"message_id": str(event.message_id), **counts})


async def record_clinic_joins(event: ChildrenJoinedClinicCohortRows, uow: ConsentUnitOfWork) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        await uow.consent.add_memberships(messages.memberships_from(event))
        await uow.commit()


async def update_clinic_dates(event: ClinicDatesChanged, uow: ConsentUnitOfWork) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        await uow.consent.upsert_clinic_session(messages.clinic_session_from(event), event.occurred_at)
        await uow.commit()


async def record_implied_consent(event: VaccinationRecorded, uow: ConsentUnitOfWork) -> None:
    if not messages.implies_consent(event):
        return
    response = domain.implied_consent(
        record_id=event.record_id,
        child_id=event.child_id,
        team_ods=event.team_ods,
        programme=event.programme.value,
        academic_year=event.academic_year,
        recorded_by=event.recorded_by,
        performed_at=event.performed_at,
    )
    async with uow:
        if not await uow.claim(event):
            return
        await uow.consent.lock_child(event.child_id)
        if await uow.consent.add_response(response):
            status = await _status_of(uow, response)
            uow.publish(messages.consent_recorded(response, status, cause=event))
        await uow.commit()
    log.info(
        "implied consent recorded", extra={"consent_id": str(response.consent_id), "record_id": str(event.record_id)}
    )


async def send_consent_request(
    command: SendConsentRequest, uow: ConsentUnitOfWork, now: datetime, maker: LinkMaker
) -> Reply:
    today = london_date(now)
    year = command.academic_year or academic_year_of(today)
    async with uow:
        await uow.consent.lock_child(command.child_id)
        earlier = await uow.consent.get_request(command.message_id)
        if earlier is not None:
            return Reply.success(messages.request_reply_data(earlier, skipped={}, duplicate=True))
        plan = await _plan_request(uow, command, year=year, today=today)
        if isinstance(plan, domain.Refusal) or not await uow.claim(command):
            return _refused(plan, command.message_id)
        request = ConsentRequest(
            request_id=command.message_id,
            child_id=command.child_id,
            team_ods=command.team_ods,
            programmes=plan.programmes,
            academic_year=year,
            requested_by=command.requested_by,
            requested_at=now,
        )
        await uow.consent.add_request(request)
        uow.publish(messages.consent_requested(request, cause=command))
        url = maker.url(links.RequestLink(request.request_id))
        uow.publish(messages.consent_request_message(request, form_url=url, cause=command))
        await uow.commit()
    return Reply.success(messages.request_reply_data(request, skipped=plan.skipped))


async def record_consent(command: RecordConsent, uow: ConsentUnitOfWork, now: datetime) -> Reply:
    consent_id = command.consent_id or command.message_id  # a redelivered command maps to one response
    async with uow:
        await uow.consent.lock_child(command.child_id)
        existing = await uow.consent.get_response(consent_id)
        if existing is not None:
            return await _already_recorded(uow, existing, command)
        child = await uow.consent.get_child(command.child_id)
        year = command.academic_year or academic_year_of(london_date(now))
        response = messages.response_from(command, consent_id=consent_id, academic_year=year, now=now)
        refusal = domain.check_staff_response(
            child=child, team_ods=command.team_ods, route=response.route, parent_id=command.parent_id
        )
        if refusal is not None or child is None or not await uow.claim(command):
            return _refused(refusal, command.message_id)
        await uow.consent.add_response(response)
        status = await _status_of(uow, response)
        uow.publish(messages.consent_recorded(response, status, cause=command))
        confirmation = domain.confirmation_for(child, response)
        if confirmation is not None:
            uow.publish(messages.confirmation_message(response, confirmation, cause=command))
        await uow.commit()
    return Reply.success(_recorded(response, status, confirmation_sent=confirmation is not None))


async def get_consent_status(query: GetConsentStatus, uow: ConsentUnitOfWork) -> Reply:
    async with uow:
        child = await uow.consent.get_child(query.child_id)
        responses = await uow.consent.responses_for(query.child_id)
        memberships = await uow.consent.memberships_of(query.child_id)
        triage = await uow.forms.needing_triage({r.form_response_id for r in responses if r.form_response_id})
    if child is None and not responses:
        return Reply.failure(domain.NOT_FOUND, "unknown child: consent has no record of that child")
    return Reply.success(messages.status_report(query.child_id, responses, memberships, triage))


async def _plan_request(
    uow: ConsentUnitOfWork, command: SendConsentRequest, *, year: int, today: date
) -> domain.RequestPlan | domain.Refusal:
    child = await uow.consent.get_child(command.child_id)
    responses = await uow.consent.responses_for(command.child_id, year)
    statuses = domain.statuses_by_programme(responses, dict.fromkeys(p.value for p in command.programmes))
    windows = await uow.consent.clinic_windows(command.team_ods, year)
    return domain.plan_consent_request(
        child=child, team_ods=command.team_ods, statuses=statuses, windows=windows, today=today
    )


async def _status_of(uow: ConsentUnitOfWork, response: domain.ConsentResponse) -> domain.Status:
    responses = await uow.consent.responses_for(response.child_id, response.academic_year)
    return domain.consent_status(r for r in responses if r.programme == response.programme)


async def _already_recorded(uow: ConsentUnitOfWork, existing: domain.ConsentResponse, command: RecordConsent) -> Reply:
    if (existing.child_id, existing.programme) != (command.child_id, command.programme.value):
        return Reply.failure("consent_id_conflict", "that consent_id was already used for another child or programme")
    return Reply.success(_recorded(existing, await _status_of(uow, existing), duplicate=True))


def _recorded(
    response: domain.ConsentResponse,
    status: domain.Status,
    *,
    confirmation_sent: bool | None = None,
    duplicate: bool = False,
) -> dict[str, Any]:
    data = messages.response_data(response)
    data.update(child_id=str(response.child_id), status=status.value, duplicate=duplicate)
    if confirmation_sent is not None:
        data["confirmation_sent"] = confirmation_sent
    return data


def _refused(refusal: object, message_id: object) -> Reply:
    if isinstance(refusal, domain.Refusal):
        log.info("request refused", extra={"message_id": str(message_id), "code": refusal.code})
        return Reply.failure(refusal.code, refusal.message)
    # The claim failed after the earlier lookup missed: a concurrent redelivery won the race.
    return Reply.failure("duplicate", "this request is already being handled; ask again for its result")
