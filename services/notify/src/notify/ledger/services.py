"""Notify's use cases, one per incoming message; each owns its transaction and claims its message id."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from contracts.bulk import ChildrenUpsertedRows, InvitationRequestRow, InviteToClinicRows
from contracts.cohort import ChildRemovedFromClinicCohort, InvitationKind, InviteToClinic
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
from notify.domain.invitations import Invitation, keep_new
from notify.domain.notifications import Content, compose
from notify.domain.recipients import do_not_contact_reason
from notify.domain.templates import CONFIRMATION_KINDS, MessageKind, TemplateCatalogue
from notify.ledger import parent_messages, retiming
from notify.ledger.cancelling import cancel_ineligible
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
        await retiming.retime(uow, now, team_ods=event.team.ods_code, year=None, cause=event)
        await uow.commit()


async def record_clinic_dates(event: ClinicDatesChanged, uow: NotifyUnitOfWork, now: datetime) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        await uow.copies.save_clinic_dates(event)
        await retiming.retime(uow, now, team_ods=event.team_ods, year=event.academic_year, cause=event)
        await uow.commit()


async def record_children(event: ChildrenUpsertedRows, uow: NotifyUnitOfWork, now: datetime) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        await uow.copies.save_children(event.children, event.occurred_at)
        flagged = [str(c["child_id"]) for c in event.children if any(c.get(flag) for flag in DO_NOT_CONTACT)]
        await cancel_ineligible(uow, flagged, now, event)
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
        await cancel_ineligible(uow, [str(event.child_id)], now, event)
        await uow.commit()


async def record_vaccination(event: VaccinationRecorded, uow: NotifyUnitOfWork, now: datetime) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        if event.outcome is VaccinationOutcome.VACCINATED or event.reason is NotVaccinatedReason.ALREADY_HAD:
            child_id, programme, year = event.child_id, str(event.programme), event.academic_year
            await uow.copies.save_vaccinated(child_id=child_id, programme=programme, year=year)
            await cancel_ineligible(uow, [str(child_id)], now, event)
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
            await cancel_ineligible(uow, [str(event.child_id)], now, event)
        await uow.commit()


async def invite_to_clinic(command: InviteToClinicRows, uow: NotifyUnitOfWork, now: datetime) -> None:
    """Ledger first: programmes already invited drop out of initial invitations, in one statement.

    Invitations due now are sent as this transaction commits (`uow.send_now`): a child joining a clinic
    that is days away reaches the provider without waiting for the dispatcher's expand loop.
    """
    async with uow:
        if not await uow.claim(command):
            return
        requests = command.invitations
        await uow.invitations.lock_teams_timing(r["team_ods"] for r in requests)
        await uow.copies.forget_leavers(
            [(str(r["child_id"]), r["team_ods"], r["academic_year"]) for r in requests], before=command.occurred_at
        )
        drafts = [draft(r, command) for r in requests]
        claimed = await uow.invitations.claim_ledger(drafts)
        repeats = [d for d in drafts if d.kind == InvitationKind.SUBSEQUENT]
        new = keep_new(drafts, claimed, await uow.invitations.not_yet_sent(repeats))
        # A repeat not made may have claimed programmes never invited; its invitation will not exist.
        await uow.invitations.release_ledger(d.id for d in repeats if not d.programmes and d.id in claimed)
        await retiming.schedule(uow, new, now)
        await uow.invitations.add(new, now)
        retiming.publish_scheduled(uow, new, command)
        await uow.send_now([i for i in new if i.due_by(now)], now)
        await uow.commit()


def draft(request: InvitationRequestRow, command: InviteToClinic) -> Invitation:
    return Invitation(
        id=new_id(),
        child_id=str(request["child_id"]),
        team_ods=request["team_ods"],
        academic_year=request["academic_year"],
        programmes=tuple(dict.fromkeys(str(p) for p in request["programmes"])),
        kind=str(request.get("kind", InvitationKind.INITIAL)),
        trigger=str(request["trigger"]),
        reason=str(request["reason"]),
        requested_at=command.occurred_at,
        requested_by=request.get("requested_by"),
    )


async def send_parent_message(
    command: SendParentMessage, uow: NotifyUnitOfWork, now: datetime, catalogue: TemplateCatalogue
) -> None:
    async with uow:
        if not await uow.claim(command):
            return
        child = (await uow.copies.children([command.child_id])).get(str(command.child_id))
        team = (await uow.copies.teams([command.team_ods])).get(command.team_ods)
        # A confirmation to the form's contact details needs no copy of the child (an unmatched response).
        if team is None or (child is None and command.recipient is None):
            raise ChildNotKnownYet(f"child or team of message {command.message_id} not known yet")
        kind = MessageKind(str(command.kind))
        # Confirmations may still reach a child archived for the team; requests and invitations may not.
        blocked = child is not None and do_not_contact_reason(child, archived_blocks=kind not in CONFIRMATION_KINDS)
        if blocked:
            log.info("parent message not sent: %s", blocked, extra={"message_id": str(command.message_id)})
            await uow.commit()
            return
        only = str(command.parent_id) if command.parent_id else None
        programmes = [str(p) for p in command.programmes]
        extra = parent_messages.extra_values(command, team)
        content = Content(
            parent_messages.about(child, command), team, kind, programmes, command.academic_year, extra=extra
        )
        to = parent_messages.explicit_recipients(command)
        notes = compose(content, now=now, catalogue=catalogue, new_id=new_id, sms=command.sms, only_parent=only, to=to)
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
