"""The checks and matching of a cohort import (import_match_sql) give their Python twins' answers
(import_rules), over generated rows and existing children."""

from __future__ import annotations

import json
import random
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from cohort import import_match_sql as sql
from cohort.import_checks import plan_params
from cohort.import_rules import (
    ImportPlan,
    Known,
    RowOutcome,
    SameChild,
    StagedChild,
    Upload,
    candidates,
    repeated_nhs_numbers,
    row_outcome,
    row_programmes,
    same_children,
)

pytestmark = pytest.mark.integration

TEAM = "RRULE"
NUMBERS = [None, None, None, "9434765919", "4010232137", "9990000018", "9990000026"]
FIRST = ["Jane", "jane", "JANE", "Bo", "Zoë"]
LAST = ["Doe", "DOE", "Roe"]
BORN = [date(2014, 5, 6), date(2015, 1, 1), date(2016, 2, 29), date(2019, 9, 1), date(2008, 8, 31)]
POSTCODES = ["LS1 4AP", "LS2 9JT"]
URNS = ["100001", "100002", "888888"]


async def _stage(sql_: AsyncConnection, import_id: uuid.UUID, rows: list[tuple[StagedChild, Upload]]) -> None:
    for r, u in rows:
        await sql_.execute(
            text("INSERT INTO import_rows (import_id, row_number, nhs_number, first_name, last_name, date_of_birth,"
                 " postcode, school_urn, year_group, parents, new_child_id, child_id)"
                 " VALUES (:id, :n, :nhs, :first, :last, :born, :postcode, :urn, :group, CAST(:parents AS jsonb),"
                 " :new, :matched)"),
            {"id": import_id, "n": r.row_number, "nhs": r.nhs_number, "first": r.first_name, "last": r.last_name,
             "born": r.date_of_birth, "postcode": r.postcode, "urn": u.school_urn, "group": u.year_group,
             "parents": json.dumps(list(u.parents)), "new": uuid.uuid4(), "matched": r.matched},
        )  # fmt: skip


async def _known(sql_: AsyncConnection, child: Known) -> None:
    await sql_.execute(
        text("INSERT INTO children (id, team_ods, nhs_number, first_name, last_name, date_of_birth, postcode,"
             " school_urn, year_group, parents) VALUES (:id, :team, :nhs, :first, :last, :born, :postcode, :urn,"
             " :group, CAST(:parents AS jsonb))"),
        {"id": child.id, "team": TEAM, "nhs": child.nhs_number, "first": child.first_name, "last": child.last_name,
         "born": child.date_of_birth, "postcode": child.postcode, "urn": child.school_urn, "group": child.year_group,
         "parents": json.dumps(list(child.parents))},
    )  # fmt: skip


def _row(rng: random.Random, n: int, matched: uuid.UUID | None = None) -> tuple[StagedChild, Upload]:
    staged = StagedChild(
        n, rng.choice(NUMBERS), rng.choice(FIRST), rng.choice(LAST), rng.choice(BORN), rng.choice(POSTCODES), matched
    )
    parents: tuple[object, ...] = rng.choice([(), ({"name": "Pat"},)])
    return staged, Upload(rng.choice(URNS), rng.choice([None, None, 3, 9, 12]), parents)


def _existing(rng: random.Random) -> list[Known]:
    children = []
    for number in rng.sample(NUMBERS, 5):
        staged, upload = _row(rng, 0)
        children.append(
            Known(
                uuid.uuid4(),
                number,
                staged.first_name,
                staged.last_name,
                staged.date_of_birth,
                staged.postcode,
                upload.school_urn,
                upload.year_group,
                upload.parents,
            )
        )
    return children


@pytest.mark.parametrize("seed", range(8))
async def test_matching_and_each_row_s_outcome_are_the_rules(cohort_sql: AsyncConnection, seed: int) -> None:
    rng = random.Random(seed)
    existing = _existing(rng)
    for child in existing:
        await _known(cohort_sql, child)
    rows = [_row(rng, n) for n in range(2, 40)]
    import_id = uuid.uuid4()
    await _stage(cohort_sql, import_id, rows)
    params = {"id": import_id, "team": TEAM}
    await cohort_sql.execute(sql.MATCH_BY_NHS_NUMBER, params)
    ambiguous = list((await cohort_sql.execute(sql.MATCH_BY_DETAILS, params)).scalars())
    found = await cohort_sql.execute(
        text("SELECT row_number, child_id FROM import_rows WHERE import_id = :id ORDER BY row_number"), params
    )
    matched = {r.row_number: r.child_id for r in found}

    expected_ambiguous, expected_matched = [], {}
    for staged, _ in rows:
        by_number = [c.id for c in existing if staged.nhs_number and c.nhs_number == staged.nhs_number]
        chosen = by_number or candidates(staged, existing)
        if len(chosen) > 1:
            expected_ambiguous.append(staged.row_number)
        expected_matched[staged.row_number] = chosen[0] if len(chosen) == 1 else None
    assert (ambiguous, matched) == (expected_ambiguous, expected_matched)

    await cohort_sql.execute(sql.CLASSIFY, params)
    outcomes = await cohort_sql.execute(
        text("SELECT row_number, outcome FROM import_rows WHERE import_id = :id ORDER BY row_number"), params
    )
    by_id = {c.id: c for c in existing}
    expected = {s.row_number: row_outcome(s, u, by_id.get(matched[s.row_number])) for s, u in rows}  # type: ignore[arg-type]
    assert {r.row_number: r.outcome for r in outcomes} == expected


def test_the_generated_cases_meet_an_ambiguous_match_and_every_outcome_but_unchanged() -> None:
    seen: set[str] = set()
    for seed in range(8):
        rng = random.Random(seed)
        existing = _existing(rng)
        for staged, upload in [_row(rng, n) for n in range(2, 40)]:
            by_number = [c for c in existing if staged.nhs_number and c.nhs_number == staged.nhs_number]
            found = [c.id for c in by_number] or candidates(staged, existing)
            seen.add("ambiguous" if len(found) > 1 else "")
            child = next((c for c in existing if len(found) == 1 and c.id == found[0]), None)
            seen.add(row_outcome(staged, upload, child))
    assert {*RowOutcome, "ambiguous"} - {RowOutcome.UNCHANGED} <= seen


@pytest.mark.parametrize("seed", range(6))
async def test_repeated_numbers_and_rows_of_one_child_are_the_rules(cohort_sql: AsyncConnection, seed: int) -> None:
    rng = random.Random(100 + seed)
    existing = [uuid.uuid4(), uuid.uuid4()]
    rows = [_row(rng, n, rng.choice([None, None, None, *existing])) for n in range(2, 62)]
    import_id = uuid.uuid4()
    await _stage(cohort_sql, import_id, rows)
    repeated = (await cohort_sql.execute(sql.REPEATED_NHS_NUMBERS, {"id": import_id})).scalars().all()
    assert list(repeated) == repeated_nhs_numbers([s for s, _ in rows])
    twins = (await cohort_sql.execute(sql.DUPLICATES, {"id": import_id})).all()
    assert [SameChild(r.row_number, r.first_row) for r in twins] == same_children([s for s, _ in rows])


@pytest.mark.parametrize("programmes", [("flu",), ("hpv",), ("hpv", "menacwy"), ("flu", "hpv", "td_ipv", "mmr")])
async def test_rows_no_programme_is_for_are_the_rules(cohort_sql: AsyncConnection, programmes: tuple[str, ...]) -> None:
    rng = random.Random(7)
    rows = [_row(rng, n) for n in range(2, 80)]
    import_id = uuid.uuid4()
    await _stage(cohort_sql, import_id, rows)
    plan = ImportPlan(programmes, 2025, date(2025, 10, 15))
    params: dict[str, Any] = {"id": import_id, **plan_params(plan)}
    outside = (await cohort_sql.execute(sql.OUTSIDE_YEAR_GROUPS, params)).all()
    expected = [s.row_number for s, u in rows if not row_programmes(programmes, u.year_group, s.date_of_birth, 2025)]
    assert [r.row_number for r in outside] == expected
    assert expected  # the generated rows include some no programme is for
