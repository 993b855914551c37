"""Cancelling invitations whose purpose has gone, and settling expanded ones from their messages.

Either way cohort is told why with InvitationCancelled; a cancelled, unsent invitation frees its ledger rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from contracts.common import Programme
from contracts.envelope import Message
from contracts.notify import InvitationCancelled
from notify.domain.eligibility import judge
from notify.domain.invitations import Invitation
from notify.ledger.retiming import tracing
from notify.persistence.uow import NotifyUnitOfWork


def cancelled_event(invitation: Invitation, reason: str, cause: Message | None) -> InvitationCancelled:
    return InvitationCancelled(
        invitation_id=uuid.UUID(invitation.id),
        child_id=uuid.UUID(invitation.child_id),
        team_ods=invitation.team_ods,
        programmes=[Programme(p) for p in invitation.programmes],
        reason=reason,
        **tracing(cause),
    )


async def cancel(
    uow: NotifyUnitOfWork, items: Sequence[tuple[Invitation, str]], now: datetime, cause: Message | None
) -> None:
    await uow.invitations.cancel(items, now)
    uow.publish(*(cancelled_event(i, reason, cause) for i, reason in items))


async def settle(uow: NotifyUnitOfWork, invitation_ids: Iterable[str | None], now: datetime) -> None:
    """Settle expanded invitations once their messages are done (`invitations.settled_status`); those whose
    messages were cancelled are cancelled too, with InvitationCancelled."""
    settled = await uow.invitations.settle([i for i in invitation_ids if i], now)
    uow.publish(*(cancelled_event(i, i.cancel_reason or "cancelled", None) for i in settled))


async def cancel_ineligible(
    uow: NotifyUnitOfWork, child_ids: Sequence[str], now: datetime, cause: Message | None
) -> int:
    """Cancel unsent invitations that can no longer be sent (vaccinated, refused, left, do-not-contact)."""
    if not child_ids:
        return 0
    unsent = await uow.invitations.unsent(child_ids=child_ids)
    if not unsent:
        return 0
    children = await uow.copies.children(child_ids)
    outcomes = await uow.copies.outcomes(child_ids)
    leavers = await uow.copies.leavers(child_ids)
    doomed = []
    for invitation in unsent:
        child = children.get(invitation.child_id)
        if child is None:
            continue  # judged at send time, once the child's details have arrived
        decision = judge(invitation, child, outcomes, leavers, at_send=False)
        if decision.cancel_reason:
            doomed.append((invitation, decision.cancel_reason))
    await cancel(uow, doomed, now, cause)
    return len(doomed)
