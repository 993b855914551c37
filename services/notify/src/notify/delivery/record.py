"""Recording what the provider calls came to, with their events, in one transaction."""

from __future__ import annotations

import logging
import random
from collections import Counter
from datetime import date, datetime

from notify.delivery import events, rechecks
from notify.delivery.claim import SendPolicy
from notify.domain.notifications import Attempt, Failed, Retry, after_attempt
from notify.ledger import cancelling
from notify.persistence.uow import NotifyUnitOfWork

log = logging.getLogger(__name__)


async def record_attempts(
    uow: NotifyUnitOfWork,
    attempts: list[Attempt],
    now: datetime,
    policy: SendPolicy,
    rng: random.Random,
    *,
    granted_on: date | None = None,
) -> None:
    """Record outcomes and publish their events in one transaction: sent, retried or given up (`after_attempt`).

    The daily grants of attempts the provider did not count go back to `granted_on`'s limits, so a day's
    limit is spent on messages sent, not on 429s and lookups (each retry is granted again).
    """
    decided = [(a.notification.id, after_attempt(a, now, policy.retry, rng)) for a in attempts]
    retries = [(i, d.at, d.lookup, d.error) for i, d in decided if isinstance(d, Retry)]
    failures = [(i, d.status, d.error) for i, d in decided if isinstance(d, Failed)]
    async with uow:
        sent = await uow.notifications.mark_sent(
            [(a.notification.id, a.provider_id) for a in attempts if a.provider_id], now
        )
        await uow.notifications.retry(retries)
        failed = await uow.notifications.fail(failures, now)
        reasons = {i: (str(s), e) for i, s, e in failures}
        uow.publish(*events.sent(sent, now))
        uow.publish(*events.settled([events.Outcome(f, *reasons[f.id]) for f in failed], now))
        if granted_on is not None:
            await uow.limits.refund_daily(
                granted_on, Counter(a.notification.channel for a in attempts if not a.counted)
            )
        await rechecks.cancel(uow, [(a.notification, a.cancel_reason) for a in attempts if a.cancel_reason], now)
        await cancelling.settle(uow, [s.invitation_id for s in sent + failed], now)
        await uow.commit()
    if failed:
        log.warning("notifications failed", extra={"count": len(failed), "ids": [f.id for f in failed][:20]})
