"""Use cases driven by other services' events: local copies, activity entries and closed school sessions."""

from __future__ import annotations

from collections.abc import Sequence

from cohort import activity
from cohort.copies import SchoolSession
from cohort.domain import CohortYear, Trigger, select_for_clinic
from cohort.services import join_and_invite
from cohort.uow import CohortUnitOfWork
from contracts.bulk import InvitationsScheduledRows
from contracts.common import MessageKind
from contracts.consent import ConsentRecorded
from contracts.envelope import Message
from contracts.notify import InvitationCancelled, NotificationsSent
from contracts.sessions import (
    ClinicDatesChanged,
    SchoolSessionChanged,
    SchoolSessionClosed,
    TeamUpdated,
    VaccinationRecorded,
)
from msgkit.clock import london_date

CLINIC_INVITATION_KINDS = frozenset({MessageKind.CLINIC_INITIAL_INVITATION, MessageKind.CLINIC_SUBSEQUENT_INVITATION})


async def keep_team(event: TeamUpdated, uow: CohortUnitOfWork) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        programmes = [p.value for p in event.team.programmes]
        await uow.copies.keep_team(event.team.ods_code, programmes, event.occurred_at)
        await uow.commit()


def _session_of(event: SchoolSessionChanged | SchoolSessionClosed) -> SchoolSession:
    programmes = tuple(p.value for p in event.programmes)
    return SchoolSession(event.session_id, event.team_ods, event.school_urn, programmes, event.academic_year)


async def keep_school_session(event: SchoolSessionChanged, uow: CohortUnitOfWork) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        await uow.copies.keep_school_session(_session_of(event), dates=event.dates, changed_at=event.occurred_at)
        await uow.commit()


async def keep_clinic_dates(event: ClinicDatesChanged, uow: CohortUnitOfWork) -> None:
    """The team's clinic days: a walk-in is added only on one (the dates' timing is notify's business)."""
    async with uow:
        if not await uow.claim(event):
            return
        values = {
            "session_id": event.session_id,
            "team_ods": event.team_ods,
            "academic_year": event.academic_year,
            "programmes": [p.value for p in event.programmes],
            "dates": [d.on for d in event.dates],
            "changed_at": event.occurred_at,
        }
        await uow.copies.keep_clinic_dates(values)
        await uow.commit()


async def invite_closed_session(event: SchoolSessionClosed, uow: CohortUnitOfWork) -> None:
    """*Send clinic invitations*: the session's children still needing a programme join and are invited."""
    async with uow:
        if not await uow.claim(event):
            return
        session = _session_of(event)
        await uow.copies.ensure_school_session(session)
        selection = select_for_clinic(await uow.copies.candidates(session), session.programmes)
        cohort = CohortYear(session.team_ods, session.academic_year, london_date(event.occurred_at))
        await join_and_invite(
            uow, selection.invite, cohort, trigger=Trigger.STAFF, requested_by=event.closed_by, cause=event
        )
        await uow.commit()


async def keep_vaccination(event: VaccinationRecorded, uow: CohortUnitOfWork) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        await uow.copies.keep_vaccination(
            {
                "record_id": event.record_id,
                "child_id": event.child_id,
                "programme": event.programme.value,
                "academic_year": event.academic_year,
                "outcome": event.outcome.value,
                "reason": event.reason.value if event.reason else None,
                "performed_at": event.performed_at,
            }
        )
        await uow.activity.append([activity.vaccination_recorded(event)])
        await uow.commit()


async def keep_consent(event: ConsentRecorded, uow: CohortUnitOfWork) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        await uow.copies.keep_consent(
            {
                "child_id": event.child_id,
                "programme": event.programme.value,
                "academic_year": event.academic_year,
                "status": event.status.value,
                "recorded_at": event.recorded_at,
            }
        )
        await uow.activity.append([activity.consent_recorded(event)])
        await uow.commit()


async def keep_invitations_scheduled(event: InvitationsScheduledRows, uow: CohortUnitOfWork) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        await uow.copies.keep_scheduled(event)
        await uow.commit()


async def keep_invitation_cancelled(event: InvitationCancelled, uow: CohortUnitOfWork) -> None:
    async with uow:
        if not await uow.claim(event):
            return
        await uow.copies.mark_invitation(
            event.invitation_id, child_id=event.child_id, team_ods=event.team_ods, cancelled_reason=event.reason
        )
        await uow.activity.append([activity.invitation_cancelled(event)])
        await uow.commit()


async def record_activity(events: Sequence[Message], uow: CohortUnitOfWork) -> list[None]:
    """Events that add to activity logs (sent, delivered, failed, consent requested), many per transaction.

    Each event's message id is claimed in the transaction, so a redelivered one adds nothing; entries of
    the whole batch go in one insert.
    """
    async with uow:
        fresh = await uow.claim_many(events)
        sent = [e for e in fresh if isinstance(e, NotificationsSent)]
        entries = await _sent_entries(sent, uow) if sent else []
        entries += [entry for e in fresh if not isinstance(e, NotificationsSent) for entry in activity.entries_of(e)]
        await uow.activity.append(entries)
        await uow.commit()
    return [None] * len(events)


async def _sent_entries(events: Sequence[NotificationsSent], uow: CohortUnitOfWork) -> list[activity.Entry]:
    sent = [(e, n) for e in events for n in e.notifications]
    await uow.copies.mark_invitations_sent(
        (n.invitation_id, n.child_id, n.team_ods)
        for _, n in sent
        if n.invitation_id is not None and n.kind in CLINIC_INVITATION_KINDS
    )
    restricted = await uow.children.restricted_among({n.child_id for _, n in sent})
    return [activity.notification_sent(e, n, restricted=n.child_id in restricted) for e, n in sent]
