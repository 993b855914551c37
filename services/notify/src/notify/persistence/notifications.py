"""Notifications: bulk insert, claim due ones for sending, record provider outcomes, cancellations and callbacks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, any_, bindparam, cast, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from notify.domain.notifications import Notification, NotificationStatus
from notify.domain.timing import window_of
from notify.persistence import notifications_sql
from notify.persistence.sql import any_id
from notify.persistence.tables import notifications


@dataclass(frozen=True, slots=True)
class Settled:
    """A notification whose status just changed, with what its event needs."""

    id: str
    invitation_id: str | None
    child_id: str
    parent_id: str | None
    team_ods: str
    kind: str
    channel: str
    to: str


def settled_from_row(r: Any) -> Settled:
    return Settled(
        id=str(r.id),
        invitation_id=str(r.invitation_id) if r.invitation_id else None,
        child_id=str(r.child_id),
        parent_id=str(r.parent_id) if r.parent_id else None,
        team_ods=r.team_ods,
        kind=r.kind,
        channel=r.channel,
        to=r.to,
    )


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, items: Sequence[Notification], now: datetime) -> None:
        """Insert new notifications as they are: pending, or already `sending` (claimed as they were made)."""
        if not items:
            return
        await self.session.execute(
            notifications_sql.INSERT,
            {
                "now": now,
                "ids": [uuid.UUID(n.id) for n in items],
                "references": [n.reference for n in items],
                "invitations": [_uuid(n.invitation_id) for n in items],
                "children": [uuid.UUID(n.child_id) for n in items],
                "parents": [_uuid(n.parent_id) for n in items],
                "teams": [n.team_ods for n in items],
                "kinds": [n.kind for n in items],
                "channels": [n.channel for n in items],
                "recipients": [n.to for n in items],
                "templates": [n.template_id for n in items],
                "personalisation": [json.dumps(n.personalisation) for n in items],
                "reply_to": [n.reply_to_id for n in items],
                "window_start": [n.window.start if n.window else None for n in items],
                "window_end": [n.window.end if n.window else None for n in items],
                "programmes": [",".join(n.programmes) or None for n in items],
                "years": [n.academic_year for n in items],
                "next_attempt_at": [n.next_attempt_at for n in items],
                "statuses": [str(n.status) for n in items],
                "attempts": [n.attempts for n in items],
            },
        )

    async def claim_due(
        self, now: datetime, limit: int, *, channels: Iterable[str] | None = None
    ) -> list[Notification]:
        """Due notifications (of `channels` only, if given), oldest first, locked; rows others hold are skipped."""
        c = notifications.c
        statement = select(notifications).where(c.status == notifications_sql.CLAIMABLE, c.next_attempt_at <= now)
        if channels is not None:
            only = sorted(channels)
            # One channel (the other's day used up) is read from ix_notifications_due_by_channel.
            statement = statement.where(c.channel == only[0] if len(only) == 1 else c.channel.in_(only))
        statement = statement.order_by(c.next_attempt_at).limit(limit).with_for_update(skip_locked=True)
        return [_notification(r) for r in (await self.session.execute(statement)).all()]

    async def mark_sending(self, ids: Sequence[str], now: datetime) -> None:
        """Committed before the provider is called, so a crash mid-call is visible as a stale `sending`."""
        if ids:
            c = notifications.c
            statement = update(notifications).where(c.id == any_id(ids))
            await self.session.execute(
                statement.values(status=notifications_sql.CLAIMED, attempts=c.attempts + 1, attempt_started_at=now)
            )

    async def defer(self, items: Sequence[tuple[str, datetime]]) -> None:
        """Move not-yet-attempted notifications to a later time (a closed window, the seconds before midnight)."""
        for until in sorted({u for _, u in items}):
            ids = [i for i, u in items if u == until]
            statement = update(notifications).where(notifications.c.id == any_id(ids))
            await self.session.execute(statement.values(next_attempt_at=until))

    async def mark_sent(self, items: Sequence[tuple[str, str]], now: datetime) -> list[Settled]:
        if not items:
            return []
        params = {"now": now, "ids": [uuid.UUID(i) for i, _ in items], "provider_ids": [p for _, p in items]}
        return [settled_from_row(r) for r in (await self.session.execute(notifications_sql.MARK_SENT, params)).all()]

    async def retry(self, items: Sequence[tuple[str, datetime, bool, str]]) -> None:
        if items:
            ids, next_at, lookup, errors = map(list, zip(*items, strict=True))
            params = {"ids": [uuid.UUID(i) for i in ids], "next_at": next_at, "lookup": lookup, "errors": errors}
            await self.session.execute(notifications_sql.MARK_RETRY, params)

    async def fail(self, items: Sequence[tuple[str, NotificationStatus, str]], now: datetime) -> list[Settled]:
        if not items:
            return []
        params = {
            "now": now,
            "ids": [uuid.UUID(i) for i, _, _ in items],
            "statuses": [str(s) for _, s, _ in items],
            "errors": [e for _, _, e in items],
        }
        return [settled_from_row(r) for r in (await self.session.execute(notifications_sql.MARK_FAILED, params)).all()]

    async def cancel(self, items: Sequence[tuple[str, str]], now: datetime) -> list[Settled]:
        """Cancel (id, reason) messages that have not reached the provider; returns those that changed."""
        if not items:
            return []
        params = {"now": now, "ids": [uuid.UUID(i) for i, _ in items], "reasons": [r for _, r in items]}
        return [
            settled_from_row(r) for r in (await self.session.execute(notifications_sql.MARK_CANCELLED, params)).all()
        ]

    async def narrow(self, items: Sequence[Notification]) -> None:
        """Store the programmes (and their personalisation) a claimed message still has to be about."""
        if items:
            params = {
                "ids": [uuid.UUID(n.id) for n in items],
                "programmes": [",".join(n.programmes) for n in items],
                "personalisation": [json.dumps(n.personalisation) for n in items],
            }
            await self.session.execute(notifications_sql.NARROW, params)

    async def recover_stale(self, now: datetime, older_than: timedelta) -> int:
        """Attempts begun by a replica that died: look them up before anything is sent again."""
        c = notifications.c
        statement = (
            update(notifications)
            .where(c.status == notifications_sql.INTERRUPTED, c.attempt_started_at < now - older_than)
            .values(
                status=notifications_sql.RETRIED,
                needs_lookup=True,
                next_attempt_at=now,
                last_error="attempt interrupted",
            )
            .returning(c.id)
        )
        return len((await self.session.execute(statement)).all())

    async def lock_for_receipts(self, provider_ids: Sequence[str], references: Sequence[str]) -> list[Any]:
        """The notifications a batch of delivery receipts names (by provider id or reference), locked.

        Locked in id order, so two replicas applying overlapping batches wait for each other, never deadlock.
        """
        c = notifications.c
        conditions = []
        if provider_ids:
            conditions.append(c.provider_id == any_(cast(bindparam("pids", list(provider_ids)), ARRAY(String))))
        if references:
            conditions.append(c.reference == any_(cast(bindparam("refs", list(references)), ARRAY(String))))
        if not conditions:
            return []
        statement = select(notifications).where(or_(*conditions)).order_by(c.id).with_for_update()
        return list((await self.session.execute(statement)).all())

    async def record_deliveries(
        self, items: Sequence[tuple[str, NotificationStatus, str | None]], now: datetime
    ) -> None:
        """Apply final statuses: (id, status, the provider's id if the receipt names one)."""
        if items:
            params = {
                "now": now,
                "ids": [uuid.UUID(i) for i, _, _ in items],
                "statuses": [str(s) for _, s, _ in items],
                "provider_ids": [p for _, _, p in items],
            }
            await self.session.execute(notifications_sql.MARK_DELIVERED, params)

    async def for_child(self, child_id: uuid.UUID) -> list[dict[str, Any]]:
        c = notifications.c
        statement = select(notifications).where(c.child_id == child_id).order_by(c.created_at, c.channel)
        return [
            {
                "notification_id": str(r.id),
                "invitation_id": str(r.invitation_id) if r.invitation_id else None,
                "parent_id": str(r.parent_id) if r.parent_id else None,
                "kind": r.kind,
                "channel": r.channel,
                "recipient": r.to,
                "template_id": r.template_id,
                "reference": r.reference,
                "status": r.status,
                "attempts": r.attempts,
                "provider_id": r.provider_id,
                "sent_at": r.sent_at.isoformat() if r.sent_at else None,
                "completed_at": r.completed_at.isoformat() if r.completed_at else None,
                "last_error": r.last_error,
                "programmes": list(r.programmes or ()),
                "academic_year": r.academic_year,
                "cancel_reason": r.cancel_reason,
            }
            for r in (await self.session.execute(statement)).all()
        ]


def _notification(r: Any) -> Notification:
    return Notification(
        id=str(r.id),
        reference=r.reference,
        child_id=str(r.child_id),
        team_ods=r.team_ods,
        kind=r.kind,
        channel=r.channel,
        to=r.to,
        template_id=r.template_id,
        personalisation=dict(r.personalisation),
        next_attempt_at=r.next_attempt_at,
        invitation_id=str(r.invitation_id) if r.invitation_id else None,
        parent_id=str(r.parent_id) if r.parent_id else None,
        reply_to_id=r.reply_to_id,
        window=window_of(r.window_start, r.window_end),
        programmes=tuple(r.programmes or ()),
        academic_year=r.academic_year,
        status=NotificationStatus(r.status),
        attempts=r.attempts,
        needs_lookup=r.needs_lookup,
        provider_id=r.provider_id,
        cancel_reason=r.cancel_reason,
    )
