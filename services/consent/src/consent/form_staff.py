"""Staff's side of online responses: list and read them, match, add the child, archive; the team's generic link.

Unmatched responses are also settled without staff: when children arrive from cohort, a response whose details
now match exactly one child of its team is matched, and one whose child staff asked cohort to add is matched
to that child.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection
from datetime import datetime

from consent import form_messages, links
from consent.form_repository import FormRecord, FormState
from consent.forms import record_for_child
from consent.uow import ConsentUnitOfWork
from consent.wiring import LinkMaker
from contracts.consent import (
    ArchiveConsentResponse,
    CreateChildFromConsentResponse,
    GetConsentResponse,
    GetTeamConsentLink,
    ListConsentResponses,
    MatchConsentResponse,
)
from contracts.envelope import Message, Reply
from msgkit.clock import academic_year_of, london_date

log = logging.getLogger(__name__)

NOT_FOUND = "not_found"
NOT_UNMATCHED = "not_unmatched"  # the response was matched, archived or is being added already
WRONG_TEAM = "wrong_team"  # the child is not one of the response's team


async def list_responses(query: ListConsentResponses, uow: ConsentUnitOfWork) -> Reply:
    async with uow:
        found, total = await uow.forms.page(
            query.team_ods, unmatched_only=query.unmatched_only, page=query.page, size=query.page_size
        )
    data = {"team_ods": query.team_ods, "page": query.page, "page_size": query.page_size, "total": total}
    return Reply.success({**data, "responses": [form_messages.summary(r) for r in found]})


async def get_response(query: GetConsentResponse, uow: ConsentUnitOfWork) -> Reply:
    async with uow:
        record = await uow.forms.get(query.response_id)
    if record is None:
        return Reply.failure(NOT_FOUND, "There is no online response with that id.")
    return Reply.success(form_messages.detail(record))


async def _unmatched(
    uow: ConsentUnitOfWork, response_id: uuid.UUID, *, done: FormState, child_id: uuid.UUID | None = None
) -> FormRecord | Reply:
    """The unmatched response, locked; or the reply: not found, already done this way (a repeat), or not unmatched."""
    await uow.forms.lock(response_id)
    record = await uow.forms.get(response_id)
    if record is None:
        return Reply.failure(NOT_FOUND, "There is no online response with that id.")
    if record.state is done and (child_id is None or record.child_id == child_id):
        return Reply.success({**_decided(record), "duplicate": True})  # a redelivery, or staff asking twice
    if record.state is not FormState.UNMATCHED:
        return Reply.failure(NOT_UNMATCHED, f"That response is {record.state.value}, not unmatched.")
    return record


def _decided(
    record: FormRecord, state: FormState | None = None, child_id: uuid.UUID | None = None
) -> dict[str, object]:
    chosen = child_id or record.child_id
    return {
        "response_id": str(record.response_id),
        "state": (state or record.state).value,
        "child_id": str(chosen) if chosen else None,
    }


async def match_response(command: MatchConsentResponse, uow: ConsentUnitOfWork, now: datetime) -> Reply:
    async with uow:
        found = await _unmatched(uow, command.response_id, done=FormState.MATCHED, child_id=command.child_id)
        if isinstance(record := found, Reply):
            return record
        child = await uow.consent.get_child(command.child_id)
        if child is None or child.team_ods != record.team_ods:
            return Reply.failure(WRONG_TEAM, "There is no child with that id in the response's team.")
        await uow.forms.decide(
            record.response_id, FormState.MATCHED, child_id=child.child_id, by=command.matched_by, at=now
        )
        await record_for_child(uow, record, child.child_id, cause=command)
        await uow.commit()
    return Reply.success({**_decided(record, FormState.MATCHED, child.child_id), "duplicate": False})


async def create_child(command: CreateChildFromConsentResponse, uow: ConsentUnitOfWork, now: datetime) -> Reply:
    """Ask cohort to add the child; the response is matched when the child arrives (ChildrenUpserted)."""
    async with uow:
        child_id = form_messages.created_child_id(command.response_id)
        if isinstance(record := await _unmatched(uow, command.response_id, done=FormState.CREATING), Reply):
            return record
        await uow.forms.decide(record.response_id, FormState.CREATING, child_id=child_id, by=command.created_by, at=now)
        uow.publish(form_messages.add_child(record, created_by=command.created_by, cause=command))
        await uow.commit()
    return Reply.success({**_decided(record, FormState.CREATING, child_id), "duplicate": False})


async def archive_response(command: ArchiveConsentResponse, uow: ConsentUnitOfWork, now: datetime) -> Reply:
    async with uow:
        if isinstance(record := await _unmatched(uow, command.response_id, done=FormState.ARCHIVED), Reply):
            return record
        await uow.forms.decide(
            record.response_id, FormState.ARCHIVED, child_id=None, by=command.archived_by, at=now, notes=command.notes
        )
        await uow.commit()
    return Reply.success({**_decided(record, FormState.ARCHIVED), "duplicate": False})


async def team_link(query: GetTeamConsentLink, uow: ConsentUnitOfWork, now: datetime, maker: LinkMaker) -> Reply:
    year = query.academic_year or academic_year_of(london_date(now))
    async with uow:
        team = await uow.consent.get_team(query.team_ods)
        programmes = await uow.consent.team_programmes(query.team_ods, year)
    if team is None:
        return Reply.failure(NOT_FOUND, "consent has no record of that team")
    link = links.TeamLink(query.team_ods, year)
    data = {"team_ods": query.team_ods, "academic_year": year, "programmes": programmes}
    return Reply.success({**data, "url": maker.url(link), "token": maker.token(link)})


async def settle_waiting(
    uow: ConsentUnitOfWork, child_ids: Collection[uuid.UUID], now: datetime, *, cause: Message
) -> int:
    """Match the responses these new or changed children settle (in the caller's transaction)."""
    settled = 0
    for record in await uow.forms.waiting_for(child_ids):
        child_id = record.child_id if record.state is FormState.CREATING else None
        if child_id is None and record.match_key is not None:
            found = await uow.forms.children_matching(record.team_ods, record.match_key)
            child_id = found[0] if len(found) == 1 else None
        if child_id is None:
            continue
        await uow.forms.decide(record.response_id, FormState.MATCHED, child_id=child_id, by=record.decided_by, at=now)
        await record_for_child(uow, record, child_id, cause=cause)
        settled += 1
    return settled
