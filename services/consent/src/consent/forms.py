"""Use cases of the online consent form: open a link, submit a form, and record what it says for a child."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from consent import form_messages, form_rules, links, messages
from consent.domain import Child
from consent.form_repository import FormRecord, FormState
from consent.status import consent_status
from consent.uow import ConsentUnitOfWork
from consent.wiring import LinkMaker
from contracts.consent import (
    FORM_INVALID,
    LINK_EXPIRED,
    LINK_INVALID,
    RESPONSE_CONFLICT,
    LinkKind,
    OpenConsentForm,
    SubmitConsentForm,
)
from contracts.envelope import Message, Reply
from msgkit.clock import london_date

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Target:
    """What a link is about: a team's year, its programmes, and for a request link the request and child."""

    kind: LinkKind
    team_ods: str
    academic_year: int
    programmes: tuple[str, ...]
    request_id: uuid.UUID | None = None
    child: Child | None = None


async def _target(uow: ConsentUnitOfWork, link: links.Link) -> Target | None:
    if isinstance(link, links.TeamLink):  # its programmes are its clinics' (read with their windows below)
        return Target(LinkKind.TEAM, link.team_ods, link.academic_year, ())
    request = await uow.consent.get_request(link.request_id)
    if request is None:
        return None
    child = await uow.consent.get_child(request.child_id)
    return Target(
        LinkKind.REQUEST, request.team_ods, request.academic_year, request.programmes, request.request_id, child
    )


async def _open(
    uow: ConsentUnitOfWork, maker: LinkMaker, token: str, now: datetime
) -> Reply | tuple[Target, form_rules.OpenProgrammes]:
    """The link's target and the programmes still open, or the failure to reply with."""
    link = maker.read(token)
    target = None if link is None else await _target(uow, link)
    if target is None or (target.kind is LinkKind.REQUEST and target.child is None):
        return Reply.failure(LINK_INVALID, "This link is not one the team sent.")
    windows = await uow.consent.clinic_windows(target.team_ods, target.academic_year)
    asked = target.programmes or tuple(sorted({p for w in windows for p in w.programmes}))
    still = form_rules.open_programmes(windows, asked, london_date(now))
    if still is None:
        return Reply.failure(LINK_EXPIRED, "The consent window for this link has closed.")
    return target, still


async def open_form(query: OpenConsentForm, uow: ConsentUnitOfWork, now: datetime, maker: LinkMaker) -> Reply:
    async with uow:
        opened = await _open(uow, maker, query.token, now)
        if isinstance(opened, Reply):
            return opened
        target, still = opened
        team = await uow.consent.get_team(target.team_ods)
    if team is None:
        return Reply.failure(LINK_EXPIRED, "The team's details are not known yet.")
    view = form_messages.form_view(
        kind=target.kind,
        team=team,
        year=target.academic_year,
        programmes=still.programmes,
        closes_on=still.closes_on,
        child=target.child,
    )
    return Reply.success(view.model_dump(mode="json"))


async def submit_form(command: SubmitConsentForm, uow: ConsentUnitOfWork, now: datetime, maker: LinkMaker) -> Reply:
    """Record a form once per response_id: a repeat replies the first receipt, with `repeated`."""
    async with uow:
        await uow.forms.lock(command.response_id)
        earlier = await uow.forms.get(command.response_id)
        opened = await _open(uow, maker, command.token, now)
        if earlier is not None:
            return _repeat(earlier, opened)
        if isinstance(opened, Reply):
            return opened
        target, still = opened
        if (problem := form_rules.form_problem(command.form, still.programmes)) is not None:
            return Reply.failure(FORM_INVALID, problem)
        record = await _new_record(uow, command, target, now)
        await uow.forms.add(record)
        child = target.child if target.kind is LinkKind.REQUEST else None
        if record.child_id is not None:
            child = await record_for_child(uow, record, record.child_id, cause=command)
        if child is None or not child.confirmations_blocked:
            uow.publish(*form_messages.confirmations(record, cause=command))
        await uow.commit()
    log.info("consent form recorded", extra={"response_id": str(record.response_id), "state": record.state.value})
    return Reply.success(form_messages.receipt(record))


def _repeat(earlier: FormRecord, opened: Reply | tuple[Target, form_rules.OpenProgrammes]) -> Reply:
    if isinstance(opened, Reply) and opened.error is not None and opened.error.code == LINK_INVALID:
        return opened  # a repeat must hold the same valid link: a response id alone reveals nothing
    if not isinstance(opened, Reply) and (opened[0].team_ods, opened[0].request_id) != (
        earlier.team_ods,
        earlier.request_id,
    ):
        return Reply.failure(RESPONSE_CONFLICT, "That response_id was used with another link.")
    return Reply.success(form_messages.receipt(earlier, repeated=True))


async def _new_record(uow: ConsentUnitOfWork, command: SubmitConsentForm, target: Target, now: datetime) -> FormRecord:
    key = form_rules.match_key(command.form)
    child_id = target.child.child_id if target.child else None
    if target.kind is LinkKind.TEAM and key is not None:
        found = await uow.forms.children_matching(target.team_ods, key)
        child_id = found[0] if len(found) == 1 else None
    return FormRecord(
        response_id=command.response_id,
        team_ods=target.team_ods,
        academic_year=target.academic_year,
        link_kind=target.kind.value,
        request_id=target.request_id,
        programmes=tuple(a.programme.value for a in command.form.answers),
        answers=command.form,
        needs_triage=form_rules.needs_triage(command.form),
        match_key=key,
        submitted_at=now,
        state=FormState.MATCHED if child_id else FormState.UNMATCHED,
        child_id=child_id,
    )


async def record_for_child(
    uow: ConsentUnitOfWork, record: FormRecord, child_id: uuid.UUID, *, cause: Message
) -> Child | None:
    """Record the form's answers as the child's website responses; warn parents of unknown contact details."""
    await uow.consent.lock_child(child_id)
    child = await uow.consent.get_child(child_id)
    keys = [(p.parent_id, p.email_key, p.phone_key) for p in child.parents] if child else []
    parent_id = form_rules.from_contact(record.answers, keys)
    responses = form_rules.website_responses(
        record.answers,
        response_id=record.response_id,
        child_id=child_id,
        team_ods=record.team_ods,
        academic_year=record.academic_year,
        parent_id=parent_id,
        submitted_at=record.submitted_at,
    )
    for response in responses:
        if await uow.consent.add_response(response):
            same = await uow.consent.responses_for(child_id, record.academic_year)
            status = consent_status(r for r in same if r.programme == response.programme)
            uow.publish(messages.consent_recorded(response, status, cause=cause))
    if child is not None and child.parents and parent_id is None and not child.confirmations_blocked:
        uow.publish(*form_messages.unknown_contact_warnings(record, child, cause=cause))
    return child
