"""Expanding due invitations: judged again from the copies, then one notification per contactable parent and channel.

Those of the new notifications that may go at once (sending window, rate limit, daily limits, free call
slots) are claimed in the same transaction, inserted as `sending`: a due-now invitation reaches the
provider without a second transaction. The send loop claims the rest.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from notify.delivery.claim import NOTHING_ADMITTED, NOTHING_CLAIMED, Claimed, SendPolicy, admit
from notify.domain.eligibility import judge
from notify.domain.invitations import Invitation, InvitationStatus
from notify.domain.notifications import Content, Notification, NotificationStatus, compose
from notify.domain.templates import TemplateCatalogue
from notify.ledger import cancelling
from notify.persistence.uow import Due, NotifyUnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Expanded:
    found: int  # due invitations seen
    claimed: Claimed  # the notifications made of them that may be sent at once, already `sending`


async def expand_due(
    uow: NotifyUnitOfWork,
    now: datetime,
    *,
    limit: int,
    catalogue: TemplateCatalogue,
    postpone: timedelta,
    policy: SendPolicy,
    send_limit: int,
) -> Expanded:
    """Claim due invitations, re-check them and turn the eligible ones into one notification per parent and channel.

    Up to `send_limit` of the new notifications that may go now are claimed in the same transaction.
    """
    async with uow:
        due = await uow.invitations.claim_due(now, limit)
        if not due:
            return Expanded(0, NOTHING_CLAIMED)
        claimed, missing = await _expand(uow, due, now, catalogue=catalogue, policy=policy, send_limit=send_limit)
        await uow.invitations.postpone(missing, now + postpone, now)
        await uow.commit()
    if missing:
        log.warning("invitations postponed: child or team details missing", extra={"count": len(missing)})
    return Expanded(len(due), claimed)


async def expand_now(
    uow: NotifyUnitOfWork,
    invitations: list[Invitation],
    now: datetime,
    *,
    catalogue: TemplateCatalogue,
    policy: SendPolicy,
    send_limit: int,
) -> Claimed:
    """Expand invitations the caller's transaction has just made due, in that transaction.

    Those whose child or team copy is not there yet stay scheduled for the dispatcher's expand loop
    (woken by the commit), which postpones them if the copy is still missing.
    """
    claimed, missing = await _expand(uow, invitations, now, catalogue=catalogue, policy=policy, send_limit=send_limit)
    if missing:
        uow.due_work(Due.INVITATIONS)
    return claimed


@dataclass(slots=True)
class _Composed:
    notes: list[Notification] = field(default_factory=list)
    sending: list[str] = field(default_factory=list)  # invitations that made notifications
    missing: list[str] = field(default_factory=list)  # invitations whose child or team copy has not arrived
    cancelled: list[tuple[Invitation, str]] = field(default_factory=list)


async def _expand(
    uow: NotifyUnitOfWork,
    due: list[Invitation],
    now: datetime,
    *,
    catalogue: TemplateCatalogue,
    policy: SendPolicy,
    send_limit: int,
) -> tuple[Claimed, list[str]]:
    """The notifications of `due` (claimed up to `send_limit`), and the ids of those lacking a child or team copy."""
    composed = await _compose(uow, due, now, catalogue)
    await cancelling.cancel(uow, composed.cancelled, now, None)
    claimed = await _insert_claiming(uow, composed.notes, now, policy, send_limit)
    await uow.invitations.set_status(composed.sending, InvitationStatus.SENDING, now)
    if len(claimed.notifications) < len(composed.notes):
        uow.due_work(Due.SENDS)  # the rest are for the send loop
    return claimed, composed.missing


async def _compose(
    uow: NotifyUnitOfWork, due: list[Invitation], now: datetime, catalogue: TemplateCatalogue
) -> _Composed:
    """Each invitation judged at send time from the copies (read once for the batch), and composed if it may go."""
    child_ids = [i.child_id for i in due]
    children = await uow.copies.children(child_ids)
    teams = await uow.copies.teams(i.team_ods for i in due)
    outcomes = await uow.copies.outcomes(child_ids)
    leavers = await uow.copies.leavers(child_ids)
    composed = _Composed()
    for invitation in due:
        child, team = children.get(invitation.child_id), teams.get(invitation.team_ods)
        if child is None or team is None:
            composed.missing.append(invitation.id)  # their details are on the way; never lose the invitation
            continue
        decision = judge(invitation, child, outcomes, leavers, at_send=True)
        if decision.cancel_reason:
            composed.cancelled.append((invitation, decision.cancel_reason))
            continue
        content = Content(
            child,
            team,
            invitation.message_kind,
            decision.programmes,
            invitation.academic_year,
            invitation_id=invitation.id,
            window=team.window,
        )
        composed.notes += compose(content, now=now, catalogue=catalogue, new_id=lambda: str(uuid.uuid4()))
        composed.sending.append(invitation.id)
    return composed


async def _insert_claiming(
    uow: NotifyUnitOfWork, notes: list[Notification], now: datetime, policy: SendPolicy, send_limit: int
) -> Claimed:
    """Insert `notes`; those that may go now (up to `send_limit`) claimed as they are inserted, `sending`."""
    candidates = [n for n in notes if n.next_attempt_at <= now][: max(0, send_limit)]
    admitted = await admit(uow, candidates, now, policy) if candidates else NOTHING_ADMITTED
    claimed = {n.id: replace(n, status=NotificationStatus.SENDING, attempts=1) for n in admitted.ready}
    later = dict(admitted.deferred)

    def inserted(n: Notification) -> Notification:
        if n.id in claimed:
            return claimed[n.id]
        return replace(n, next_attempt_at=later[n.id]) if n.id in later else n

    await uow.notifications.add([inserted(n) for n in notes], now)
    return Claimed(list(claimed.values()), len(candidates), admitted.wait_seconds, now.astimezone(UTC).date())
