"""SIGKILL mid-batch: a service killed while it works loses nothing and duplicates nothing."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from datetime import timedelta

import pytest
from faststream.rabbit import RabbitBroker

from clinics_admin.processes import ServiceProcess
from contracts import cohort, notify
from contracts.common import Programme
from msgkit import rpc
from msgkit.clock import academic_year_of
from testkit import eventually

from .support import HEADER, ask, child, stage_rows
from .test_clinic_flow import clinic_on, create_team, new_team, seed, today

pytestmark = pytest.mark.e2e

CHILDREN = 6000


async def clinic_children(client: RabbitBroker, ods: str, year: int, filter_: cohort.ClinicChildrenFilter) -> int:
    query = cohort.ListClinicChildren(
        team_ods=ods, programme=Programme.FLU, academic_year=year, filter=filter_, page_size=1
    )
    return int((await ask(client, query))["total"])


async def scheduled(client: RabbitBroker, ods: str, year: int) -> int:
    """Children whose invitation notify has scheduled (none is sent: the first clinic is weeks away), as staff
    see them: not yet invited, "scheduled for <time>"."""
    count, after = 0, None
    while True:
        query = cohort.ListClinicChildren(
            team_ods=ods, programme=Programme.FLU, academic_year=year,
            filter=cohort.ClinicChildrenFilter.NOT_INVITED, page_size=500, after=after,
        )  # fmt: skip
        page = await ask(client, query)
        count += sum(str(c["not_invited_because"] or "").startswith("scheduled for") for c in page["children"])
        if not (after := page.get("next_cursor")):
            return count


async def restart(process: ServiceProcess) -> None:
    process.kill()
    process.start()
    await process.wait_ready(timeout=60)


async def test_killing_cohort_mid_commit_and_notify_mid_batch_loses_and_duplicates_nothing(
    client: RabbitBroker, stack: dict[str, ServiceProcess]
) -> None:
    ods = new_team()
    await create_team(client, ods)
    first_date = today() + timedelta(days=60)  # due later: this test is about scheduling, not sending
    year = academic_year_of(first_date)
    await clinic_on(client, ods, first_date)
    n = seed()
    rows = [child(n + i, "999999") for i in range(CHILDREN)]
    import_id = uuid.uuid4()
    assert not await stage_rows(client, import_id, ods, HEADER, [r.cells() for r in rows])
    commit = cohort.CommitCohortImport(import_id=import_id, team_ods=ods, academic_year=year)

    # SIGKILL cohort once it has applied part of the commit; the same commit sent again resumes it.
    cut_off = asyncio.create_task(rpc.request(client, commit, timeout=120))
    joined = cohort.ClinicChildrenFilter.ALL
    await eventually(lambda: clinic_children(client, ods, year, joined), timeout=60, what="the commit under way")
    await restart(stack["cohort"])
    with contextlib.suppress(Exception):  # the request died with the process: that is the point
        cut_off.cancel()
        await cut_off
    reply = await rpc.request(client, commit, timeout=600)
    assert reply.ok, reply.error

    # SIGKILL notify while invitation commands are still arriving.
    await eventually(lambda: scheduled(client, ods, year), timeout=60, what="the first invitations")
    await restart(stack["notify"])

    async def all_scheduled() -> bool:
        return await scheduled(client, ods, year) == CHILDREN

    await eventually(all_scheduled, timeout=180, interval=2, what=f"all {CHILDREN} children's invitations scheduled")
    assert await clinic_children(client, ods, year, joined) == CHILDREN
    for row in random.sample(rows, 20):
        found = await ask(client, cohort.FindChildren(team_ods=ods, nhs_number=row.nhs))
        status = await ask(client, notify.GetInvitationStatus(child_id=found["children"][0]["child_id"]))
        assert len(status["invitations"]) == 1
