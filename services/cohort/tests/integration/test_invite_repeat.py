"""*Invite to community clinic* again before the earlier invitation has gone: said so, and nothing changes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from faststream.rabbit import RabbitBroker

from contracts.cohort import InviteChildToClinic
from contracts.common import Programme
from msgkit.runtime import Runtime
from testkit import eventually, publish

from ..cohort_support import Tap, ask, child_row, import_children, new_team, processed, scheduled, sent

pytestmark = pytest.mark.integration

# 08:00 UTC on 15 October 2025 (BST): due a day later, 09:00 London.
SCHEDULED_AT = datetime(2025, 10, 15, 8, 0, tzinfo=UTC)


async def test_a_repeat_before_the_first_is_sent_says_when_it_is_due_and_changes_nothing(
    client: RabbitBroker, runtime: Runtime, tap: Tap
) -> None:
    team = new_team()
    [child] = await import_children(client, team, [child_row(1, urn="100001", seed=1_900)])
    first = await ask(client, InviteChildToClinic(child_id=child, team_ods=team, requested_by="Nurse Joy"))
    assert first.data is not None and first.data["kind"] == "initial"
    invitation_id = uuid.uuid4()
    await publish(client, event := scheduled(child, team, at=SCHEDULED_AT, invitation_id=invitation_id))
    await eventually(lambda: processed(runtime, event), what="InvitationsScheduled")

    click = InviteChildToClinic(child_id=child, team_ods=team, requested_by="Nurse Joy")
    repeat, redelivered = await ask(client, click), await ask(client, click)
    assert repeat.data == redelivered.data
    assert repeat.data is not None and repeat.data["kind"] == "none"
    assert repeat.data["message"] == "an invitation is already due at 16 Oct 2025 09:00"
    assert repeat.data["already_due_at"] == "2025-10-16T08:00:00+00:00"
    # Outbox order: once a later message of cohort's is seen, any InviteToClinic of the repeat would be too.
    [marker] = await import_children(client, team, [child_row(2, urn="100009", seed=1_901)])

    async def marked() -> bool:
        return any(s["child_id"] == str(marker) for s in tap.snapshots(team))

    await eventually(marked, what="the marker")
    assert [i["kind"] for i in tap.invitations(team)] == ["initial"]

    gone = sent(child, team, at=SCHEDULED_AT, invitation_id=invitation_id, recipient="p1900@example.com")
    await publish(client, gone)
    await eventually(lambda: processed(runtime, gone), what="NotificationsSent")
    after = await ask(client, InviteChildToClinic(child_id=child, team_ods=team, requested_by="Nurse Joy"))
    assert after.data is not None and after.data["kind"] == "subsequent"

    async def both() -> list[str] | None:
        kinds = [i["kind"] for i in tap.invitations(team)]
        return kinds if len(kinds) >= 2 else None

    # The one refused was never asked of notify: the initial, then the repeat made once it was sent.
    assert await eventually(both, what="the subsequent invitation") == ["initial", "subsequent"]


async def test_invite_to_clinic_offers_only_the_programmes_of_the_childs_year_group(
    client: RabbitBroker, runtime: Runtime
) -> None:
    team = new_team()
    [child] = await import_children(client, team, [child_row(1, urn="100001", seed=930)])  # year 7 in 2025/26
    hpv = InviteChildToClinic(child_id=child, team_ods=team, programmes=[Programme.HPV], requested_by="Nurse Joy")
    refused = await ask(client, hpv)
    assert refused.error is not None and refused.error.code == "not_in_year_groups"
    assert refused.error.message.startswith("The child is not part of this programme: hpv is not offered to year 7")
    both = await ask(
        client, hpv.model_copy(update={"programmes": [Programme.FLU, Programme.HPV], "message_id": uuid.uuid4()})
    )
    assert both.data is not None and both.data["programmes"] == ["flu"]
