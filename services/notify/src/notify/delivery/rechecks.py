"""Claimed notifications re-checked against the local copies: those whose purpose has gone are cancelled.

Every path to a provider call goes through here: the send loop's claim (and so every retry). What an
invitation's expansion claims in its own transaction was judged from the same copies a moment before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from notify.delivery import events
from notify.domain.eligibility import Outcomes, check_message
from notify.domain.notifications import Notification
from notify.domain.templates import CONFIRMATION_KINDS, programmes_text
from notify.ledger import cancelling
from notify.persistence.uow import NotifyUnitOfWork


async def recheck(uow: NotifyUnitOfWork, rows: Sequence[Notification], now: datetime) -> list[Notification]:
    """The claimed `rows` still to be sent, some about fewer programmes; the rest are cancelled.

    A row that may already be with the provider (an ambiguous attempt) is kept with its cancel reason:
    it is cancelled only once the lookup shows the provider never had it.
    """
    if not rows:
        return []
    children = await uow.copies.children({n.child_id for n in rows})
    # Confirmations are judged on the child alone: only the other kinds need outcomes and leavers.
    judged = {n.child_id for n in rows if n.kind not in CONFIRMATION_KINDS}
    outcomes = await uow.copies.outcomes(judged) if judged else {}
    leavers = await uow.copies.leavers(judged) if judged else set()
    kept, doomed, narrowed = [], [], []
    for n in rows:
        decision = check_message(
            n,
            child=children.get(n.child_id),
            outcomes=outcomes.get(n.child_id, Outcomes()),
            left_cohort=(n.child_id, n.team_ods, n.academic_year) in leavers,
        )
        if decision.cancel_reason is not None and not n.needs_lookup:
            doomed.append((n, decision.cancel_reason))
            continue
        if decision.cancel_reason is not None:
            n = replace(n, cancel_reason=decision.cancel_reason)
        elif decision.programmes and decision.programmes != n.programmes:
            text = programmes_text(decision.programmes)
            n = replace(n, programmes=decision.programmes, personalisation={**n.personalisation, "programmes": text})
            narrowed.append(n)
        kept.append(n)
    await cancel(uow, doomed, now)
    await uow.notifications.narrow(narrowed)
    return kept


async def cancel(uow: NotifyUnitOfWork, items: Sequence[tuple[Notification, str]], now: datetime) -> None:
    """Cancel messages the provider never had, tell cohort why, and settle their invitations."""
    if not items:
        return
    reasons = {n.id: reason for n, reason in items}
    cancelled = await uow.notifications.cancel(list(reasons.items()), now)
    uow.publish(*(events.cancelled(c, reasons[c.id]) for c in cancelled))
    await cancelling.settle(uow, [c.invitation_id for c in cancelled], now)
