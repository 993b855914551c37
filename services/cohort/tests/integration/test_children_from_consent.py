"""consent's AddChildFromConsentResponse: staff found no child for an online response, so cohort adds one."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from faststream.rabbit import RabbitBroker

from contracts.cohort import ParentContact
from contracts.common import Programme
from contracts.consent import AddChildFromConsentResponse
from msgkit.runtime import Runtime
from testkit import eventually, publish

from ..cohort_support import Tap, new_team, processed, scalar

pytestmark = pytest.mark.integration


def add_child(team: str, child_id: uuid.UUID) -> AddChildFromConsentResponse:
    parent = ParentContact(parent_id=uuid.uuid4(), name="Siobhan O’Brien", relationship="mum",
                           email="mum@example.com", phone="07700900123", receive_updates=True)  # fmt: skip
    return AddChildFromConsentResponse(
        child_id=child_id, response_id=uuid.uuid4(), team_ods=team, first_name="Aoife", last_name="O’Brien",
        date_of_birth=date(2016, 4, 2), postcode="LS1 4AP", school_urn="999999", parent=parent,
        programmes=[Programme.FLU, Programme.HPV], academic_year=2025, created_by="Nurse Joy",
    )  # fmt: skip


async def test_the_child_is_added_once_joins_the_clinic_cohort_and_is_announced(
    client: RabbitBroker, runtime: Runtime, tap: Tap
) -> None:
    team, child_id = new_team(), uuid.uuid4()
    command = add_child(team, child_id)

    await publish(client, command, times=2)
    await eventually(lambda: processed(runtime, command), what="the command")

    snapshots = await eventually(lambda: _snapshots(tap, team), what="ChildrenUpserted")
    assert [(s["child_id"], s["postcode"], s["last_name"]) for s in snapshots] == [
        (str(child_id), "LS1 4AP", "O’Brien")
    ]
    assert snapshots[0]["parents"][0]["email"] == "mum@example.com"
    # Year 4 in 2025/26: flu is for every year group, HPV only from year 8.
    memberships = "SELECT string_agg(programme, ',') FROM clinic_memberships WHERE child_id = :c"
    assert await scalar(runtime, memberships, c=child_id) == "flu"
    assert await scalar(runtime, "SELECT count(*) FROM children WHERE id = :c", c=child_id) == 1


async def _snapshots(tap: Tap, team: str) -> list[dict[str, object]]:
    return tap.snapshots(team)
