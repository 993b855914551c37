"""Why a clinic child was not sent an invitation yet, as the *Not invited* list says it (SPEC 2.8).

A membership is *invited* once a parent was sent an invitation for its programme and year (migration 0006);
for the rest staff read why: scheduled for when, waiting for clinic dates, cancelled (with notify's reason),
or not contactable (no email address and no mobile: a landline never gets a text).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from cohort.domain import parents_contactable
from msgkit.clock import readable

WAITING_FOR_DATES = "waiting for clinic dates"
NOT_CONTACTABLE = "not contactable"
# Notify has not told cohort of an invitation yet (it is on its way), or none was asked for.
NOT_YET = "no invitation yet"


@dataclass(frozen=True, slots=True)
class Unsent:
    """An invitation of the programme and year not (yet) sent: pending, or cancelled with why."""

    due_at: datetime | None
    cancelled_reason: str | None


def why_not_invited(unsent: Sequence[Unsent], *, contactable: bool) -> str:
    """The one reason staff read: a cancellation is final unless a later invitation is pending; a pending one
    to a child no parent of whom can be reached will not be sent either."""
    pending = [u for u in unsent if u.cancelled_reason is None]
    if pending and not contactable:
        return NOT_CONTACTABLE
    if pending:
        due = [u.due_at for u in pending if u.due_at is not None]
        return f"scheduled for {readable(min(due))}" if due else WAITING_FOR_DATES
    if unsent:
        return f"cancelled: {unsent[0].cancelled_reason}"
    return NOT_CONTACTABLE if not contactable else NOT_YET


_UNSENT = text(
    """
    SELECT child_id, due_at, cancelled_reason FROM invitations
    WHERE child_id = ANY(CAST(:children AS uuid[])) AND NOT sent
      AND academic_year = :year AND :programme = ANY(programmes)
    ORDER BY child_id, cancelled_reason IS NULL DESC, invitation_id DESC
    """
)


async def reasons(
    session: AsyncSession, rows: Iterable[Row[Any]], *, programme: str, academic_year: int
) -> dict[uuid.UUID, str]:
    """Why each of these listed children (rows of `children`, not invited) was not: one statement a page."""
    listed = {r.id: r for r in rows}
    if not listed:
        return {}
    params = {"children": list(listed), "year": academic_year, "programme": programme}
    unsent: dict[uuid.UUID, list[Unsent]] = {child: [] for child in listed}
    for r in await session.execute(_UNSENT, params):
        unsent[r.child_id].append(Unsent(r.due_at, r.cancelled_reason))
    return {
        child: why_not_invited(unsent[child], contactable=parents_contactable(row.parents))
        for child, row in listed.items()
    }
