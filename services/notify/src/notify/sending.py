"""The dispatcher's steps: expand due invitations into notifications, claim due sends, call the provider, record."""

from __future__ import annotations

import logging
import random
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from notify import events, planning, rechecking
from notify.domain.eligibility import judge
from notify.domain.invitations import Invitation, InvitationStatus
from notify.domain.notifications import Content, Notification, NotificationStatus, compose
from notify.domain.templates import TemplateCatalogue
from notify.domain.timing import DAY_END_GUARD, next_opening, next_utc_midnight, retry_at
from notify.persistence.uow import Due, NotifyUnitOfWork
from notify.providers import (
    AmbiguousProviderError,
    OutboundMessage,
    PermanentProviderError,
    Provider,
    RetryableProviderError,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SendPolicy:
    """The knobs of claiming and retrying (from settings)."""

    bucket: str
    rate_limited: bool
    daily_limits: dict[str, int]
    max_attempts: int
    retry_base: float
    retry_max: float


@dataclass(frozen=True, slots=True)
class Claimed:
    notifications: list[Notification]
    found: int  # due rows seen, including those deferred or left for lack of tokens
    wait_seconds: float  # until the rate limit has a token again
    day: date | None = None  # the UTC day whose daily limits granted these sends


NOTHING_CLAIMED = Claimed([], 0, 0.0)


@dataclass(frozen=True, slots=True)
class Expanded:
    found: int  # due invitations seen
    claimed: Claimed  # the notifications made of them that may be sent at once, already `sending`


@dataclass(frozen=True, slots=True)
class _Admitted:
    ready: list[Notification]
    deferred: list[tuple[str, datetime]]  # (id, when it may be tried): a closed window, or midnight is near
    wait_seconds: float


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one provider call (or lookup) came to."""

    notification: Notification
    provider_id: str | None = None
    retry: bool = False
    lookup: bool = False  # the provider may have it: look it up before any resend
    failure: NotificationStatus | None = None
    error: str = ""
    retry_after: float | None = None
    cancel_reason: str | None = None  # the lookup found nothing, and the message's purpose has gone
    # The provider may count this attempt against the day's limit: False when no send reached it, or it
    # refused the send (GOV.UK Notify counts the messages it accepts), and the day's grant is given back.
    counted: bool = True


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

    Up to `send_limit` of the new notifications that may go now are claimed in the same transaction
    (inserted as `sending`), sparing a due-now invitation a second transaction before its provider call.
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
    child_ids = [i.child_id for i in due]
    children = await uow.copies.children(child_ids)
    teams = await uow.copies.teams(i.team_ods for i in due)
    outcomes = await uow.copies.outcomes(child_ids)
    leavers = await uow.copies.leavers(child_ids)
    cancelled, missing, sending, notes = [], [], [], []
    for invitation in due:
        child, team = children.get(invitation.child_id), teams.get(invitation.team_ods)
        if child is None or team is None:
            missing.append(invitation.id)  # their details are on the way; never lose the invitation
            continue
        decision = judge(invitation, child, outcomes, leavers, at_send=True)
        if decision.cancel_reason:
            cancelled.append((invitation, decision.cancel_reason))
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
        notes += compose(content, now=now, catalogue=catalogue, new_id=lambda: str(uuid.uuid4()))
        sending.append(invitation.id)
    await planning.cancel(uow, cancelled, now, None)
    candidates = [n for n in notes if n.next_attempt_at <= now][: max(0, send_limit)]
    admitted = await _admit(uow, candidates, now, policy) if candidates else _Admitted([], [], 0.0)
    claimed = {n.id: replace(n, status=NotificationStatus.SENDING, attempts=1) for n in admitted.ready}
    later = dict(admitted.deferred)
    await uow.notifications.add(
        [
            claimed[n.id] if n.id in claimed
            else replace(n, next_attempt_at=later[n.id]) if n.id in later
            else n
            for n in notes
        ],
        now,
    )  # fmt: skip
    await uow.invitations.set_status(sending, InvitationStatus.SENDING, now)
    if len(claimed) < len(notes):
        uow.due_work(Due.SENDS)  # the rest are for the send loop
    ready = list(claimed.values())
    return Claimed(ready, len(candidates), admitted.wait_seconds, now.astimezone(UTC).date()), missing


async def claim_sends(uow: NotifyUnitOfWork, now: datetime, *, limit: int, policy: SendPolicy) -> Claimed:
    """Claim due notifications within the sending window, the shared rate limit and the daily limits.

    Each is re-checked first (`rechecking.recheck`), so a message whose purpose has gone while it waited
    (for its window, the daily limit or a retry) is cancelled instead of sent. Channels whose daily limit
    is used up are not claimed at all until midnight UTC, and nothing is in the seconds before it.
    """
    midnight = next_utc_midnight(now)
    if midnight - now < DAY_END_GUARD:
        return Claimed([], 0, (midnight - now).total_seconds())
    async with uow:
        full = await uow.limits.full_channels(now.astimezone(UTC).date(), policy.daily_limits)
        channels = set(policy.daily_limits) - full if full else None
        if channels is not None and not channels:
            return NOTHING_CLAIMED  # until midnight
        rows = await uow.notifications.claim_due(now, limit, channels=channels)
        admitted = await _admit(uow, await rechecking.recheck(uow, rows, now), now, policy)
        await uow.notifications.defer(admitted.deferred)
        await uow.notifications.mark_sending([n.id for n in admitted.ready], now)
        await uow.commit()
    sends = [replace(n, attempts=n.attempts + 1) for n in admitted.ready]
    return Claimed(sends, len(rows), admitted.wait_seconds, now.astimezone(UTC).date())


async def _admit(uow: NotifyUnitOfWork, rows: list[Notification], now: datetime, policy: SendPolicy) -> _Admitted:
    """Which of `rows` may be sent now: inside their sending window, the shared rate limit and the daily limits."""
    day, spill = now.astimezone(UTC).date(), next_utc_midnight(now)  # Notify's days end at midnight UTC
    if spill - now < DAY_END_GUARD:
        return _Admitted([], [(n.id, _opening(n, spill)) for n in rows], 0.0)
    deferred = [(n.id, _opening(n, now)) for n in rows if _opening(n, now) > now]
    later = {i for i, _ in deferred}
    ready = [n for n in rows if n.id not in later]
    wait = 0.0
    if policy.rate_limited and ready:
        taken = await uow.limits.take(policy.bucket, len(ready))
        ready, wait = ready[: taken.tokens], taken.wait_seconds
    granted = await uow.limits.grant_daily(day, Counter(n.channel for n in ready), policy.daily_limits)
    over: set[str] = set()
    for channel, count in granted.items():
        over |= {n.id for n in [n for n in ready if n.channel == channel][count:]}
    # Those over the day's limit stay as they are: their channel is not claimed again until the day has
    # room, which a grant given back (a refused send) makes before midnight.
    return _Admitted([n for n in ready if n.id not in over], deferred, wait)


def _opening(n: Notification, at: datetime) -> datetime:
    return next_opening(at, n.window) if n.window else at


async def attempt(notification: Notification, provider: Provider, catalogue: TemplateCatalogue) -> Attempt:
    """One provider call. Any doubt whether the provider took the message becomes a lookup, never a blind resend."""
    try:
        if notification.needs_lookup and (found := await provider.find_by_reference(notification.reference)):
            return Attempt(notification, provider_id=found.provider_id, counted=False)
        if notification.cancel_reason is not None:
            return Attempt(notification, cancel_reason=notification.cancel_reason, counted=False)
        message = OutboundMessage.from_template(
            reference=notification.reference,
            template=catalogue.by_id(notification.template_id),
            to=notification.to,
            personalisation=notification.personalisation,
            reply_to_id=notification.reply_to_id,
        )
    except PermanentProviderError as exc:
        return Attempt(notification, failure=NotificationStatus.PERMANENT_FAILURE, error=str(exc), counted=False)
    except RetryableProviderError as exc:  # the lookup failed: neither resend nor give up
        return Attempt(
            notification, retry=True, lookup=True, error=str(exc), retry_after=exc.retry_after, counted=False
        )
    except LookupError as exc:  # unknown template or missing personalisation: resending cannot help
        return Attempt(
            notification, failure=NotificationStatus.TECHNICAL_FAILURE, error=type(exc).__name__, counted=False
        )
    try:
        receipt = await provider.send(message)
    except PermanentProviderError as exc:  # refused, so not counted
        return Attempt(notification, failure=NotificationStatus.PERMANENT_FAILURE, error=str(exc), counted=False)
    except AmbiguousProviderError as exc:
        return Attempt(notification, retry=True, lookup=True, error=str(exc), retry_after=exc.retry_after)
    except RetryableProviderError as exc:  # refused (429, or not taken at all), so not counted
        return Attempt(notification, retry=True, error=str(exc), retry_after=exc.retry_after, counted=False)
    except Exception as exc:  # an unknown failure mid-call is as ambiguous as a timeout
        log.exception("provider call failed unexpectedly", extra={"notification_id": notification.id})
        return Attempt(notification, retry=True, lookup=True, error=type(exc).__name__)
    return Attempt(notification, provider_id=receipt.provider_id)


async def record_attempts(
    uow: NotifyUnitOfWork,
    attempts: list[Attempt],
    now: datetime,
    policy: SendPolicy,
    rng: random.Random,
    *,
    granted_on: date | None = None,
) -> None:
    """Record outcomes and publish their events in one transaction.

    The daily grants of attempts the provider did not count go back to `granted_on`'s limits, so a day's
    limit is spent on messages sent, not on 429s and lookups (each retry is granted again).
    """
    retries, failures = [], []
    for a in attempts:
        n = a.notification
        if a.retry and n.attempts >= policy.max_attempts:
            failures.append(
                (n.id, NotificationStatus.TECHNICAL_FAILURE, f"gave up after {n.attempts}: {a.error}"[:300])
            )
        elif a.retry:
            at = retry_at(
                now, attempts=n.attempts, base=policy.retry_base, cap=policy.retry_max, floor=a.retry_after, rng=rng
            )
            retries.append((n.id, next_opening(at, n.window) if n.window else at, a.lookup, a.error[:300]))
        elif a.failure is not None:
            failures.append((n.id, a.failure, a.error[:300]))
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
        await rechecking.cancel(uow, [(a.notification, a.cancel_reason) for a in attempts if a.cancel_reason], now)
        await planning.settle(uow, [s.invitation_id for s in sent + failed], now)
        await uow.commit()
    if failed:
        log.warning("notifications failed", extra={"count": len(failed), "ids": [f.id for f in failed][:20]})
