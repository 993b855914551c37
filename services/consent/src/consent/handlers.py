"""RabbitMQ subscribers of the consent service: each hands its message to one use case."""

from __future__ import annotations

from faststream.rabbit import RabbitRouter

from consent import form_staff, forms, services
from consent.uow import ConsentUnitOfWork
from consent.wiring import ConsentWiring
from contracts.bulk import ChildrenJoinedClinicCohortRows, ChildrenUpsertedRows
from contracts.cohort import ChildrenJoinedClinicCohort, ChildrenUpserted
from contracts.consent import (
    ArchiveConsentResponse,
    CreateChildFromConsentResponse,
    GetConsentResponse,
    GetConsentStatus,
    GetTeamConsentLink,
    ListConsentResponses,
    MatchConsentResponse,
    OpenConsentForm,
    RecordConsent,
    SendConsentRequest,
    SubmitConsentForm,
)
from contracts.envelope import Reply
from contracts.sessions import ClinicDatesChanged, TeamUpdated, VaccinationRecorded
from msgkit.broker import BULK, declare_publishers, make_router, subscription
from msgkit.wiring import Now, UoW, Wired

Uow = UoW[ConsentUnitOfWork]
Parts = Wired[ConsentWiring]


async def on_team_updated(event: TeamUpdated, uow: Uow) -> None:
    await services.update_team(event, uow)


async def on_children_upserted(event: ChildrenUpsertedRows, uow: Uow) -> None:
    await services.upsert_children(event, uow)


async def on_children_joined_clinic_cohort(event: ChildrenJoinedClinicCohortRows, uow: Uow) -> None:
    await services.record_clinic_joins(event, uow)


async def on_clinic_dates_changed(event: ClinicDatesChanged, uow: Uow) -> None:
    await services.update_clinic_dates(event, uow)


async def on_vaccination_recorded(event: VaccinationRecorded, uow: Uow) -> None:
    await services.record_implied_consent(event, uow)


async def on_send_consent_request(command: SendConsentRequest, uow: Uow, now: Now, wiring: Parts) -> Reply:
    return await services.send_consent_request(command, uow, now, wiring.links)


async def on_record_consent(command: RecordConsent, uow: Uow, now: Now) -> Reply:
    return await services.record_consent(command, uow, now)


async def on_get_consent_status(query: GetConsentStatus, uow: Uow) -> Reply:
    return await services.get_consent_status(query, uow)


async def on_open_consent_form(query: OpenConsentForm, uow: Uow, now: Now, wiring: Parts) -> Reply:
    return await forms.open_form(query, uow, now, wiring.links)


async def on_submit_consent_form(command: SubmitConsentForm, uow: Uow, now: Now, wiring: Parts) -> Reply:
    return await forms.submit_form(command, uow, now, wiring.links)


async def on_list_consent_responses(query: ListConsentResponses, uow: Uow) -> Reply:
    return await form_staff.list_responses(query, uow)


async def on_get_consent_response(query: GetConsentResponse, uow: Uow) -> Reply:
    return await form_staff.get_response(query, uow)


async def on_match_consent_response(command: MatchConsentResponse, uow: Uow, now: Now) -> Reply:
    return await form_staff.match_response(command, uow, now)


async def on_create_child_from_consent_response(command: CreateChildFromConsentResponse, uow: Uow, now: Now) -> Reply:
    return await form_staff.create_child(command, uow, now)


async def on_archive_consent_response(command: ArchiveConsentResponse, uow: Uow, now: Now) -> Reply:
    return await form_staff.archive_response(command, uow, now)


async def on_get_team_consent_link(query: GetTeamConsentLink, uow: Uow, now: Now, wiring: Parts) -> Reply:
    return await form_staff.team_link(query, uow, now, wiring.links)


_FORM_HANDLERS = (
    (OpenConsentForm, on_open_consent_form),
    (SubmitConsentForm, on_submit_consent_form),
    (ListConsentResponses, on_list_consent_responses),
    (GetConsentResponse, on_get_consent_response),
    (MatchConsentResponse, on_match_consent_response),
    (CreateChildFromConsentResponse, on_create_child_from_consent_response),
    (ArchiveConsentResponse, on_archive_consent_response),
    (GetTeamConsentLink, on_get_team_consent_link),
)


def build_router() -> RabbitRouter:
    """A fresh router per app, so several app instances can run in one process (tests, benchmarks)."""
    router = make_router()
    sub = router.subscriber
    sub(**subscription("consent", TeamUpdated))(on_team_updated)
    sub(**subscription("consent", ChildrenUpserted, read_as=ChildrenUpsertedRows), channel=BULK)(on_children_upserted)
    joined = subscription("consent", ChildrenJoinedClinicCohort, read_as=ChildrenJoinedClinicCohortRows)
    sub(**joined, channel=BULK)(on_children_joined_clinic_cohort)
    sub(**subscription("consent", ClinicDatesChanged))(on_clinic_dates_changed)
    sub(**subscription("consent", VaccinationRecorded))(on_vaccination_recorded)
    sub(**subscription("consent", SendConsentRequest))(on_send_consent_request)
    sub(**subscription("consent", RecordConsent))(on_record_consent)
    sub(**subscription("consent", GetConsentStatus))(on_get_consent_status)
    for message, handler in _FORM_HANDLERS:
        sub(**subscription("consent", message))(handler)
    declare_publishers(router, "consent")
    return router
