"""Contract test of the message items notify's SQL builds (json_build_object): each is its contract model's,
field for field, and the message spliced around them reads back through the contract."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.notify import InvitationsScheduled, ScheduledInvitation
from msgkit.db import session_factory
from msgkit.outbox import spliced_row
from notify.domain.invitations import Invitation, InvitationStatus
from notify.persistence.invitations import InvitationRepository

pytestmark = pytest.mark.integration

NOW = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)


def invitation(n: int, team: str) -> Invitation:
    return Invitation(
        id=str(uuid.uuid4()), child_id=str(uuid.uuid4()), team_ods=team, academic_year=2025,
        programmes=("flu", "hpv") if n % 2 else ("mmr",), kind="subsequent" if n % 3 == 0 else "initial",
        trigger="staff" if n % 4 == 0 else "automatic", reason="unknown_school",
        requested_at=NOW - timedelta(minutes=n % 5), status=InvitationStatus.SCHEDULED, due_at=NOW,
    )  # fmt: skip


async def test_retimed_items_are_scheduled_invitations_field_for_field(engine: AsyncEngine) -> None:
    team = f"C{uuid.uuid4().hex[:6].upper()}"
    items = [invitation(n, team) for n in range(25)]
    later = NOW + timedelta(days=3)
    async with session_factory(engine)() as session:
        await session.begin()
        try:
            repo = InvitationRepository(session)
            await repo.add(items, NOW)
            keys = await repo.unsent_keys(team_ods=team, year=None)
            # Half the keys wait for dates (due None), the rest move three days on.
            due = [(k, None if n % 2 else later, None if n % 2 else later.isoformat()) for n, k in enumerate(keys)]
            events = [e async for e in repo.retime_team(team_ods=team, year=None, due=due, now=NOW, per_event=10)]
        finally:
            await session.rollback()
    built = [item for e in events for item in json.loads(e.items_json)]
    assert len(built) == len(items) and [e.count for e in events] == [10, 10, 5]
    assert all(set(item) == set(ScheduledInvitation.model_fields) for item in built)
    parsed = {str(s.invitation_id): s for s in (ScheduledInvitation.model_validate(item) for item in built)}
    assert {i: (str(s.child_id), s.kind.value, [p.value for p in s.programmes]) for i, s in parsed.items()} == {
        i.id: (i.child_id, i.kind, list(i.programmes)) for i in items
    }
    assert {s.due_at for s in parsed.values()} == {None, later}
    for e in events:
        body = spliced_row(InvitationsScheduled, "invitations", e.items_json)["body"]
        assert len(InvitationsScheduled.model_validate_json(body).invitations) == e.count  # type: ignore[arg-type]
