"""Notify's use cases, one per incoming message; each owns its transaction and claims its message id."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from contracts.bulk import ChildrenUpsertedRows, InviteToClinicRows
from contracts.cohort import ChildRemovedFromClinicCohort
from contracts.consent import ConsentRecorded, ConsentStatus, SendParentMessage
from contracts.envelope import Reply
from contracts.notify import GetInvitationStatus
from contracts.sessions import (
    ClinicDatesChanged,
    NotVaccinatedReason,
    TeamUpdated,
    VaccinationOutcome,
    VaccinationRecorded,
)
from notify import planning
from notify.delivery.dispatcher import Dispatcher
from notify.domain.invitations import keep_new
from notify.domain.notifications import Content, compose
from notify.domain.recipients import do_not_contact_reason
from notify.domain.templates import CONFIRMATION_KINDS, MessageKind, TemplateCatalogue
from notify.persistence.uow import Due, NotifyUnitOfWork

log = logging.getLogger(__name__)

DO_NOT_CONTACT = ("deceased", "restricted", "invalidated", "archived")


def new_id() -> str:
    return str(uuid.uuid4())


class ChildNotKnownYet(Exception):
    """The child's details have not arrived from cohort yet; the message is retried until they have."""


async def record_team(event: TeamUpdated, uow: NotifyUnitOfWork, now: datetime) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        await uow.copies.save_team(event.team, event.occurred_at)
        await planning.retime(uow, now, team_ods=event.team.ods_code, year=None, cause=event)
        await uow.commit()


async def record_clinic_dates(event: ClinicDatesChanged, uow: NotifyUnitOfWork, now: datetime) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        await uow.copies.save_clinic_dates(event)
        await planning.retime(uow, now, team_ods=event.team_ods, year=event.academic_year, cause=event)
        await uow.commit()


async def record_children(event: ChildrenUpsertedRows, uow: NotifyUnitOfWork, now: datetime) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        await uow.copies.save_children(event.children, event.occurred_at)
        flagged = [str(c["child_id"]) for c in event.children if any(c.get(flag) for flag in DO_NOT_CONTACT)]
        await planning.cancel_ineligible(uow, flagged, now, event)
        await uow.commit()


async def record_cohort_leaver(event: ChildRemovedFromClinicCohort, uow: NotifyUnitOfWork, now: datetime) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        await uow.copies.save_leaver(
            child_id=event.child_id,
            team_ods=event.team_ods,
            year=event.academic_year,
            reason=event.reason,
            at=event.occurred_at,
        )
        await planning.cancel_ineligible(uow, [str(event.child_id)], now, event)
        await uow.commit()


async def record_vaccination(event: VaccinationRecorded, uow: NotifyUnitOfWork, now: datetime) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        if event.outcome is VaccinationOutcome.VACCINATED or event.reason is NotVaccinatedReason.ALREADY_HAD:
            child_id, programme, year = event.child_id, str(event.programme), event.academic_year
            await uow.copies.save_vaccinated(child_id=child_id, programme=programme, year=year)
            await planning.cancel_ineligible(uow, [str(child_id)], now, event)
        await uow.commit()


async def record_consent(event: ConsentRecorded, uow: NotifyUnitOfWork, now: datetime) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        await uow.copies.save_consent(
            child_id=event.child_id,
            programme=str(event.programme),
            year=event.academic_year,
            status=str(event.status),
            at=event.recorded_at,
        )
        if event.status is ConsentStatus.REFUSED:
            await planning.cancel_ineligible(uow, [str(event.child_id)], now, event)
        await uow.commit()


async def invite_to_clinic(
    command: InviteToClinicRows, uow: NotifyUnitOfWork, now: datetime, dispatcher: Dispatcher | None = None
) -> None:
    """Ledger first: programmes already invited drop out of initial invitations, in one statement.

    With a `dispatcher`, invitations due now are expanded and claimed in this transaction and sent as
    it commits: a child joining a clinic that is days away reaches the provider without waiting for
    the expand loop's own transaction.
    """
    async with uow:
        if not await uow.claim(command):
            return
        requests = command.invitations
        await uow.invitations.lock_teams_timing(r["team_ods"] for r in requests)
        await uow.copies.forget_leavers(
            [(str(r["child_id"]), r["team_ods"], r["academic_year"]) for r in requests], before=command.occurred_at
        )
        drafts = [planning.draft(r, command) for r in requests]
        claimed = await uow.invitations.claim_ledger(drafts)
        new = keep_new(drafts, claimed)
        await planning.schedule(uow, new, now, wake=dispatcher is None)
        await uow.invitations.add(new, now)
        planning.publish_scheduled(uow, new, command)
        due = [i for i in new if i.due_by(now)]
        sends = await dispatcher.expand_in(uow, due, now) if dispatcher is not None and due else None
        await uow.commit()
    if dispatcher is not None and sends is not None:
        dispatcher.launch(sends)


async def send_parent_message(
    command: SendParentMessage, uow: NotifyUnitOfWork, now: datetime, catalogue: TemplateCatalogue
) -> None:
    async with uow:
        if not await uow.claim(command):
            return
        child = (await uow.copies.children([command.child_id])).get(str(command.child_id))
        team = (await uow.copies.teams([command.team_ods])).get(command.team_ods)
        if child is None or team is None:
            raise ChildNotKnownYet(f"child or team of message {command.message_id} not known yet")
        kind = MessageKind(str(command.kind))
        # Confirmations may still reach a child archived for the team; requests and invitations may not.
        if (reason := do_not_contact_reason(child, archived_blocks=kind not in CONFIRMATION_KINDS)) is not None:
            log.info("parent message not sent: %s", reason, extra={"message_id": str(command.message_id)})
            await uow.commit()
            return
        only = str(command.parent_id) if command.parent_id else None
        programmes = [str(p) for p in command.programmes]
        content = Content(child, team, kind, programmes, command.academic_year)
        notes = compose(content, now=now, catalogue=catalogue, new_id=new_id, sms=command.sms, only_parent=only)
        await uow.notifications.add(notes, now)
        if notes:
            uow.due_work(Due.SENDS)
        await uow.commit()


async def invitation_status(query: GetInvitationStatus, uow: NotifyUnitOfWork) -> Reply:
    async with uow:
        invitations = await uow.invitations.for_child(query.child_id)
        notifications = await uow.notifications.for_child(query.child_id)
        child = (await uow.copies.children([query.child_id])).get(str(query.child_id))
    if not (invitations or notifications or child):
        return Reply.failure("not_found", "Notify has no invitations or messages for this child.")
    if child is not None and child.restricted:
        for message in notifications:  # a restricted child's family may not be traced through us
            message["recipient"] = "(hidden: restricted record)"
    return Reply.success({"child_id": str(query.child_id), "invitations": invitations, "notifications": notifications})
