"""Contract: every message item the database builds (json_build_object) is its pydantic model, field for field.

The import's statements run on a seeded database; each item they return is validated by its model in
contracts.cohort, and again inside its whole message as the outbox splices it. The activity entry the
join writes in SQL is the one activity.joined would write.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from cohort import activity, import_match_sql, import_sql
from cohort.domain import CohortYear, Join, JoinReason
from cohort.import_checks import plan_params
from cohort.import_rules import ImportPlan
from contracts.cohort import (
    ChildrenJoinedClinicCohort,
    ChildrenUpserted,
    ChildSnapshot,
    CohortJoin,
    InvitationRequest,
    InviteToClinic,
)
from contracts.common import URN_HOME_EDUCATED, URN_UNKNOWN_SCHOOL
from msgkit.outbox import spliced_row

pytestmark = pytest.mark.integration

ITEMS: list[tuple[type[BaseModel], dict[str, str]]] = [
    (ChildSnapshot, import_sql.SNAPSHOT_ITEM),
    (CohortJoin, import_sql.JOIN_ITEM),
    (InvitationRequest, import_sql.INVITATION_ITEM),
]
PARENTS = [
    {"parent_id": str(uuid.uuid4()), "name": "Pat Doe", "relationship": "Mother", "email": "pat@example.com",
     "phone": "07700900982"},
    {"parent_id": str(uuid.uuid4()), "name": None, "relationship": None, "email": None, "phone": "01632960001"},
]  # fmt: skip
ROWS = [  # row number, NHS number, school, parents
    (2, "9434765919", URN_UNKNOWN_SCHOOL, PARENTS),
    (3, None, URN_HOME_EDUCATED, []),
    (4, "4010232137", "100001", PARENTS[:1]),
]
AT = datetime(2025, 10, 15, 9, tzinfo=UTC)
TODAY = date(2025, 10, 15)


@pytest.mark.parametrize(("model", "item"), ITEMS, ids=lambda x: getattr(x, "__name__", ""))
def test_each_item_built_in_sql_names_exactly_its_models_fields(model: type[BaseModel], item: dict[str, str]) -> None:
    assert list(item) == list(model.model_fields)


async def test_the_items_an_import_batch_builds_are_valid_messages(cohort_sql: AsyncConnection) -> None:
    import_id, team = uuid.uuid4(), "RITEM"
    for number, nhs_number, urn, parents in ROWS:
        await cohort_sql.execute(
            text("INSERT INTO import_rows (import_id, row_number, nhs_number, first_name, last_name, date_of_birth,"
                 " postcode, school_urn, year_group, parents, new_child_id)"
                 " VALUES (:id, :n, :nhs, 'Zoë', :last, '2014-05-06', 'LS1 4AP', :urn, 5, CAST(:parents AS jsonb),"
                 " :new)"),
            {"id": import_id, "n": number, "nhs": nhs_number, "last": f"O'Doe{number}", "urn": urn,
             "parents": json.dumps(parents), "new": uuid.uuid4()},
        )  # fmt: skip
    await cohort_sql.execute(import_match_sql.CLASSIFY, {"id": import_id})
    batch = {"id": import_id, "team": team, "lo": 2, "hi": 4}
    snapshots = (await cohort_sql.execute(import_sql.UPSERT_CHILDREN, batch)).scalars().all()
    # Year group 5 is flu's, not HPV's: the joins are for flu alone.
    plan = {"year": 2025, "today": TODAY, "at": AT, **plan_params(ImportPlan(("flu", "hpv"), 2025, TODAY))}
    joined = (await cohort_sql.execute(import_sql.JOIN, {**batch, **plan})).one()

    children = [ChildSnapshot.model_validate_json(s) for s in snapshots]
    joins = [CohortJoin.model_validate(j) for j in json.loads(joined.joins)]
    invitations = [InvitationRequest.model_validate(i) for i in json.loads(joined.invitations)]
    assert sorted(c.last_name for c in children) == ["O'Doe2", "O'Doe3", "O'Doe4"]
    by_name = {c.last_name: c for c in children}
    assert [p.model_dump(mode="json", exclude={"receive_updates"}) for p in by_name["O'Doe2"].parents] == PARENTS
    assert joined.joined == 2 == len(joins) == len(invitations)
    assert {j.reason for j in joins} == {i.reason for i in invitations} == {"unknown_school", "home_educated"}
    assert {(i.trigger, i.kind, i.requested_by) for i in invitations} == {("automatic", "initial", None)}
    for message, field, items in [
        (ChildrenUpserted, "children", f"[{','.join(snapshots)}]"),
        (ChildrenJoinedClinicCohort, "joins", joined.joins),
        (InviteToClinic, "invitations", joined.invitations),
    ]:
        message.model_validate_json(spliced_row(message, field, items)["body"])  # type: ignore[arg-type]
    assert {tuple(j.programmes) for j in joins} == {("flu",)}
    await _joined_entries_are_activitys(cohort_sql, joins)


async def _joined_entries_are_activitys(sql: AsyncConnection, joins: list[CohortJoin]) -> None:
    rows = await sql.execute(
        text("SELECT child_id, occurred_at, kind, details FROM activity_log WHERE child_id = ANY(:ids)"),
        {"ids": [j.child_id for j in joins]},
    )
    stored = {r.child_id: (r.occurred_at, r.kind, r.details) for r in rows}
    cohort = CohortYear("RITEM", 2025, TODAY)
    for j in joins:
        twin = activity.joined(
            Join(j.child_id, tuple(j.programmes), JoinReason(j.reason)), cohort, at=AT, source=j.child_id
        )
        assert stored[j.child_id] == (twin.occurred_at, twin.kind, twin.details)
