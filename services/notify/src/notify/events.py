"""The notification events notify publishes, built from a notification whose status just changed.

Built with `model_validate` from the stored strings: pydantic parses the ids itself, which at
a thousand sends a second is measurably cheaper than making uuid.UUID objects first.
"""

from __future__ import annotations

from datetime import datetime

from contracts.notify import NotificationDelivered, NotificationFailed, NotificationSent
from notify.notification_repository import Settled


def _about(settled: Settled) -> dict[str, str]:
    return {
        "notification_id": settled.id,
        "child_id": settled.child_id,
        "kind": settled.kind,
        "channel": settled.channel,
    }


def sent(settled: Settled, at: datetime) -> NotificationSent:
    # The recipient travels to cohort's activity log, which masks it for restricted children.
    return NotificationSent.model_validate(
        {
            **_about(settled),
            "invitation_id": settled.invitation_id,
            "parent_id": settled.parent_id,
            "team_ods": settled.team_ods,
            "recipient": settled.to,
            "sent_at": at,
        }
    )


def delivered(settled: Settled) -> NotificationDelivered:
    return NotificationDelivered.model_validate(_about(settled))


def failed(settled: Settled, status: str, reason: str) -> NotificationFailed:
    return NotificationFailed.model_validate({**_about(settled), "status": status, "reason": reason})
