"""Delivery receipts: GOV.UK Notify's status callbacks, applied many to a transaction.

Notify posts a receipt for every message it delivers or gives up on, as fast as the dispatcher sent
them. The callback route hands each to a `Batcher`, so receipts arriving together share one
transaction, one row-lock query and one NotificationsSettled event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from notify.delivery import events
from notify.domain.notifications import NotificationStatus, delivery_transition
from notify.ledger import cancelling
from notify.persistence.notifications import settled_from_row
from notify.persistence.uow import NotifyUnitOfWork


class DeliveryResult(StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class Receipt:
    """One callback: which message (by Notify's id or our reference) reached which final status."""

    provider_id: str | None
    reference: str | None
    status: NotificationStatus


@dataclass
class _Judged:
    results: list[DeliveryResult] = field(default_factory=list)
    applied: dict[Any, tuple[Any, Receipt]] = field(default_factory=dict)  # by notification id: the last receipt
    overtaken: dict[Any, Any] = field(default_factory=dict)  # receipts that arrived before our record of the send


def _judge(receipts: Sequence[Receipt], rows: Sequence[Any]) -> _Judged:
    """Each receipt against its notification's status as the receipts before it in the batch left it."""
    by_provider = {row.provider_id: row for row in rows if row.provider_id}
    by_reference = {row.reference: row for row in rows}
    status = {row.id: NotificationStatus(row.status) for row in rows}
    judged = _Judged()
    for receipt in receipts:
        row = by_provider.get(receipt.provider_id) or by_reference.get(receipt.reference)
        if row is None:
            judged.results.append(DeliveryResult.NOT_FOUND)
        elif not delivery_transition(status[row.id], receipt.status):
            judged.results.append(DeliveryResult.UNCHANGED)
        else:
            if status[row.id] in (NotificationStatus.PENDING, NotificationStatus.SENDING):
                judged.overtaken[row.id] = row
            status[row.id] = receipt.status
            judged.applied[row.id] = (row, receipt)
            judged.results.append(DeliveryResult.APPLIED)
    return judged


async def record_receipts(receipts: Sequence[Receipt], uow: NotifyUnitOfWork, now: datetime) -> list[DeliveryResult]:
    """Apply receipts in arrival order under row locks; a repeat or a late receipt changes nothing."""
    async with uow:
        rows = await uow.notifications.lock_for_receipts(
            [r.provider_id for r in receipts if r.provider_id], [r.reference for r in receipts if r.reference]
        )
        judged = _judge(receipts, rows)
        if judged.applied:
            await _apply(uow, list(judged.applied.values()), list(judged.overtaken.values()), now)
            await uow.commit()
    return judged.results


def _reason(status: NotificationStatus) -> str | None:
    return None if status is NotificationStatus.DELIVERED else f"provider reported {status}"


async def _apply(
    uow: NotifyUnitOfWork, applied: list[tuple[Any, Receipt]], overtaken: list[Any], now: datetime
) -> None:
    await uow.notifications.record_deliveries([(str(row.id), r.status, r.provider_id) for row, r in applied], now)
    settled = [settled_from_row(row) for row, _ in applied]
    # The provider has the messages whose receipt came first: their send is recorded by this receipt.
    uow.publish(*events.sent([settled_from_row(row) for row in overtaken], now))
    outcomes = [events.Outcome(s, str(r.status), _reason(r.status)) for s, (_, r) in zip(settled, applied, strict=True)]
    uow.publish(*events.settled(outcomes, now))
    await cancelling.settle(uow, [s.invitation_id for s in settled], now)
