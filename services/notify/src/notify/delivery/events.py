"""The notification events notify publishes, built from a notification whose status just changed.

Built with `model_validate` from the stored strings: pydantic parses the ids itself, which at
a thousand sends a second is measurably cheaper than making uuid.UUID objects first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from contracts.common import MAX_BATCH
from contracts.notify import NotificationCancelled, NotificationsSent, NotificationsSettled
from notify.persistence.notifications import Settled


def _about(settled: Settled) -> dict[str, str]:
    return {
        "notification_id": settled.id,
        "child_id": settled.child_id,
        "kind": settled.kind,
        "channel": settled.channel,
    }


def sent(settled: Sequence[Settled], at: datetime) -> Iterator[NotificationsSent]:
    """One event per batch of sends (a thousand at most); none when nothing was sent."""
    # The recipient travels to cohort's activity log, which masks it for restricted children.
    for start in range(0, len(settled), MAX_BATCH):
        yield NotificationsSent.model_validate(
            {
                "notifications": [
                    {
                        **_about(s),
                        "invitation_id": s.invitation_id,
                        "parent_id": s.parent_id,
                        "team_ods": s.team_ods,
                        "recipient": s.to,
                        "sent_at": at,
                    }
                    for s in settled[start : start + MAX_BATCH]
                ]
            }
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """A notification that reached a final status, and why when it failed."""

    notification: Settled
    status: str
    reason: str | None = None


def settled(outcomes: Sequence[Outcome], at: datetime) -> Iterator[NotificationsSettled]:
    """One event per batch of final statuses (a thousand at most); none when nothing settled."""
    for start in range(0, len(outcomes), MAX_BATCH):
        yield NotificationsSettled.model_validate(
            {
                "notifications": [
                    {**_about(o.notification), "status": o.status, "reason": o.reason, "settled_at": at}
                    for o in outcomes[start : start + MAX_BATCH]
                ]
            }
        )


def cancelled(settled: Settled, reason: str) -> NotificationCancelled:
    values = {**_about(settled), "invitation_id": settled.invitation_id, "reason": reason}
    return NotificationCancelled.model_validate(values)
