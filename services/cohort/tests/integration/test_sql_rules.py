"""Each rule cohort spells in SQL gives the answer of its Python twin in the domain, case by case.

The SQL is rendered from the domain, so these catch a rendering that says something else (quoting, NULLs,
a list read as one value), and migration 0004's frozen copy of the vaccinated rule drifting from it.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from cohort import import_sql
from cohort.copies_sql import done
from cohort.domain import Child, ChildFlags, Parent, programme_done, reason_for_school
from cohort.import_rules import RowOutcome, is_applied
from contracts.common import URN_HOME_EDUCATED, URN_UNKNOWN_SCHOOL

pytestmark = pytest.mark.integration

URNS = [URN_UNKNOWN_SCHOOL, URN_HOME_EDUCATED, "100001", "888889", "000000", "999998"]
YEAR = 2025


async def each(
    sql: AsyncConnection, expression: str, columns: dict[str, Sequence[Any]], types: str, alias: str = "r"
) -> list[Any]:
    """`expression` over rows `alias` made of `columns` (as SQL arrays of `types`), in the order given."""
    arrays = ", ".join(f"CAST(:{name} AS {t}[])" for name, t in zip(columns, types.split(), strict=True))
    names = ", ".join(columns)
    statement = f"SELECT {expression} FROM unnest({arrays}) WITH ORDINALITY AS {alias}({names}, n) ORDER BY n"
    return list((await sql.execute(text(statement), {k: list(v) for k, v in columns.items()})).scalars())


async def test_the_school_urn_join_rule_and_its_reason_are_the_domains(cohort_sql: AsyncConnection) -> None:
    joins = await each(cohort_sql, import_sql.JOINS_BY_SCHOOL, {"school_urn": URNS}, "varchar")
    reasons = await each(cohort_sql, import_sql.JOIN_REASON, {"school_urn": URNS}, "varchar")
    assert joins == [reason_for_school(urn) is not None for urn in URNS]
    assert reasons == [reason_for_school(urn) for urn in URNS]


async def test_the_rows_a_commit_applies_are_the_domains(cohort_sql: AsyncConnection) -> None:
    outcomes, urns = zip(*itertools.product(RowOutcome, URNS), strict=True)
    applied = await each(cohort_sql, import_sql.APPLIED, {"outcome": outcomes, "school_urn": urns}, "varchar varchar")
    assert applied == [is_applied(o, u) for o, u in zip(outcomes, urns, strict=True)]


async def test_who_may_join_is_the_domains(cohort_sql: AsyncConnection) -> None:
    flags = [ChildFlags(*combination) for combination in itertools.product([False, True], repeat=4)]
    columns = {
        name: [getattr(f, name) for f in flags] for name in ("deceased", "restricted", "invalidated", "archived")
    }
    may_join = await each(cohort_sql, import_sql.MAY_JOIN, columns, "boolean " * 4, alias="c")
    assert may_join == [f.may_join for f in flags]


DONE_CASES = list(
    itertools.product(["flu", "hpv"], ["vaccinated", "not_vaccinated"], [None, "already_had", "unwell"], [2024, 2025])
)


async def test_a_programme_done_is_the_domains_in_the_copies(cohort_sql: AsyncConnection) -> None:
    programme, outcome, reason, given_in = zip(*DONE_CASES, strict=True)
    columns = {"programme": programme, "outcome": outcome, "reason": reason, "academic_year": given_in}
    found = await each(cohort_sql, f"coalesce({done('r', str(YEAR))}, false)", columns, "varchar " * 3 + "integer")
    assert found == [_done(*case) for case in DONE_CASES]


async def test_migration_0004_keeps_vaccinated_by_the_domains_rule(cohort_sql: AsyncConnection) -> None:
    children = [uuid.uuid4() for _ in DONE_CASES]
    for child, (programme, outcome, reason, given_in) in zip(children, DONE_CASES, strict=True):
        await _child(cohort_sql, child)
        await cohort_sql.execute(
            text("INSERT INTO clinic_memberships (child_id, team_ods, academic_year, programme, joined_on, reason)"
                 " VALUES (:c, 'RSQL', :y, :p, '2025-10-01', 'unknown_school')"),
            {"c": child, "y": YEAR, "p": programme},
        )  # fmt: skip
        await cohort_sql.execute(
            text("INSERT INTO vaccinations VALUES (:r, :c, :p, :y, :o, :reason, :at)"),
            {"r": uuid.uuid4(), "c": child, "p": programme, "y": given_in, "o": outcome, "reason": reason, "at": AT},
        )
    rows = await cohort_sql.execute(
        text("SELECT child_id, vaccinated FROM clinic_memberships WHERE child_id = ANY(:ids)"), {"ids": children}
    )
    kept = {r.child_id: r.vaccinated for r in rows}
    assert [kept[c] for c in children] == [_done(*case) for case in DONE_CASES]


def _done(programme: str, outcome: str, reason: str | None, given_in: int) -> bool:
    return programme_done(programme=programme, outcome=outcome, reason=reason, given_in=given_in, academic_year=YEAR)


AT = datetime(2025, 10, 1, tzinfo=UTC)
PARENTS: list[list[dict[str, str | None]]] = [
    [],
    [{"name": "Pat", "email": None, "phone": None}],
    [{"name": "Pat", "email": "pat@example.com", "phone": None}],
    [{"name": None, "email": None, "phone": "07700900982"}],
    [{"name": "Pat", "email": None, "phone": None}, {"name": "Sam", "email": None, "phone": "07700900982"}],
]


async def _child(sql: AsyncConnection, child: uuid.UUID, parents: list[dict[str, str | None]] | None = None) -> None:
    await sql.execute(
        text("INSERT INTO children (id, team_ods, first_name, last_name, date_of_birth, postcode, school_urn, parents)"
             " VALUES (:id, 'RSQL', 'Ada', 'Lovelace', '2015-01-01', 'LS1 4AP', :urn, CAST(:parents AS jsonb))"),
        {"id": child, "urn": URN_UNKNOWN_SCHOOL, "parents": json.dumps(parents or [])},
    )  # fmt: skip


async def test_a_contactable_child_is_the_domains(cohort_sql: AsyncConnection) -> None:
    """The generated column the bulk selection reads (tables.CONTACTABLE) against Child.contactable."""
    children = [uuid.uuid4() for _ in PARENTS]
    for child, parents in zip(children, PARENTS, strict=True):
        await _child(cohort_sql, child, parents)
    rows = await cohort_sql.execute(
        text("SELECT id, contactable FROM children WHERE id = ANY(:ids)"), {"ids": children}
    )
    stored = {r.id: r.contactable for r in rows}
    expected = [_domain_child(c, parents).contactable for c, parents in zip(children, PARENTS, strict=True)]
    assert [stored[c] for c in children] == expected


def _domain_child(child: uuid.UUID, parents: list[dict[str, str | None]]) -> Child:
    people = [Parent(uuid.uuid4(), p["name"], None, p["email"], p["phone"]) for p in parents]
    return Child(child, "RSQL", "Ada", "Lovelace", date(2015, 1, 1), URN_UNKNOWN_SCHOOL, parents=people)
