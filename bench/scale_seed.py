"""A national-size cohort written straight into cohort's tables with COPY, for the staff-query benchmark.

The message flow would take hours to build a million children with consents, vaccinations, invitations
and activity; the queries only read tables, so the bench writes the rows those events would have left.
Each child's story is drawn once (school, consent, vaccination, clinic membership, invitations) and every
table's rows follow from it, in shares like a school flu season's:

- ~55 % consent given, ~9 % refused, the rest no response; ~45 % vaccinated at school;
- school sessions closed at ~70 % of schools: their unvaccinated, unrefused children join the clinic
  cohort (with unknown-school and home-educated children), ~30 % of a team; ~90 % of contactable members
  get an invitation, ~60 % of those sent (email and SMS: only these are "invited"); of members who had
  not answered, ~25 % give consent and ~6 % refuse later, and ~40 % of members with consent are vaccinated at a clinic;
- every child has a consent request in their log; ~5 entries a child in all.

How the rows go into the tables (COPY; keys and indexes dropped, then rebuilt as a restore does) is bench.scale_tables'.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import asyncpg

from bench.scale_tables import ACTIVITY, COLUMNS, SCHEMA, TABLES, Rows, constraints_and_indexes
from contracts.common import URN_HOME_EDUCATED as HOME_EDUCATED
from contracts.common import URN_UNKNOWN_SCHOOL as UNKNOWN_SCHOOL
from testkit.data import nhs_number

SCHOOLS_PER_TEAM = 300
FIRST = ("Oliver", "Amelia", "George", "Isla", "Noah", "Ava", "Arthur", "Mia", "Muhammad", "Ivy", "Leo", "Lily",
         "Harry", "Florence", "Oscar", "Willow", "Archie", "Freya", "Henry", "Ella", "Theodore", "Grace", "Freddie",
         "Sophia", "Jack", "Evie", "Charlie", "Poppy", "Theo", "Charlotte", "Alfie", "Isabella", "Jacob", "Sienna",
         "Thomas", "Daisy", "Finley", "Phoebe", "Arlo", "Alice", "Lucas", "Elsie", "Tommy", "Rosie", "Isaac",
         "Aria", "Teddy", "Olivia", "Reggie", "Emily")  # fmt: skip
# Common surnames (a fifth of children, the commonest most often) and a long tail built from parts.
COMMON = ("Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
          "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
          "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill", "Ward",
          "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen", "James", "Scott",
          "Phillips", "Watson", "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths")  # fmt: skip
_HEADS = ("Ash", "Black", "Brad", "Brook", "Cart", "Chad", "Cran", "Dal", "Dun", "Elm", "Fair", "Fern", "Gold",
          "Green", "Hart", "Hol", "Ken", "Lang", "Marsh", "Mill", "Mor", "New", "Nor", "Oak", "Pen", "Red", "Rus",
          "Sand", "Shel", "Stan", "Stock", "Sut", "Thorn", "Ux", "Wal", "West", "Whit", "Win", "Wood",
          "York")  # fmt: skip
_TAILS = ("by", "croft", "den", "don", "field", "ford", "gate", "ham", "hurst", "ington", "ley", "low", "mere",
          "more", "ridge", "ston", "thorpe", "ton", "well", "wick", "wood", "worth", "ell", "ick", "ing", "away",
          "bourne", "brook", "bury", "combe", "cote", "dale", "grave", "holme", "land", "man", "over", "shaw",
          "stead", "wright")  # fmt: skip
TAIL = tuple(h + t for h in _HEADS for t in _TAILS)
COMMON_WEIGHTS = tuple(1 / (rank + 1) for rank in range(len(COMMON)))
STAFF = ("nurse.adams@example.nhs.uk", "nurse.begum@example.nhs.uk", "nurse.carter@example.nhs.uk")


def team_ods(number: int) -> str:
    return f"RSQ{number:02d}"


def school_urn(team: int, school: int) -> str:
    return f"{100_000 + team * 1_000 + school:06d}"


@dataclass(frozen=True, slots=True)
class Plan:
    children: int
    teams: int
    seed: int
    academic_year: int


@dataclass
class Seeded:
    """What the queries pick their parameters from (small samples, not the whole cohort)."""

    plan: Plan
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    sessions: list[uuid.UUID] = field(default_factory=list)
    nhs_numbers: list[tuple[str, str]] = field(default_factory=list)  # (team, NHS number)
    last_names: list[tuple[str, str]] = field(default_factory=list)  # (team, last name)
    logged: list[uuid.UUID] = field(default_factory=list)  # children with activity entries


class Story:
    """One child's season, drawn from the shared generator, written as rows of every table."""

    def __init__(self, rng: random.Random, rows: Rows, plan: Plan, season: datetime) -> None:
        self.rng, self.rows, self.plan, self.season = rng, rows, plan, season

    def _id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _at(self, day: int) -> datetime:
        return self.season + timedelta(days=day, seconds=self.rng.randrange(8 * 3600))

    async def child(self, n: int, team: int, closed: set[str], seeded: Seeded) -> None:
        rng, year = self.rng, self.plan.academic_year
        child, ods = self._id(), team_ods(team)
        roll = rng.random()
        urn = (
            UNKNOWN_SCHOOL
            if roll < 0.01
            else HOME_EDUCATED
            if roll < 0.015
            else school_urn(team, rng.randrange(SCHOOLS_PER_TEAM))
        )
        last = rng.choices(COMMON, COMMON_WEIGHTS)[0] if rng.random() < 0.2 else rng.choice(TAIL)
        first, number = rng.choice(FIRST), nhs_number(n)
        contactable = rng.random() < 0.92
        parents = [{"parent_id": str(self._id()), "name": f"Pat {last}", "relationship": "Mother",
                    "email": f"parent{n}@example.com" if contactable else None,
                    "phone": f"077009{n % 100_000:05d}" if contactable else None}]  # fmt: skip
        flags = (rng.random() < 0.0005, rng.random() < 0.003, rng.random() < 0.002, rng.random() < 0.01)
        year_group = rng.randrange(0, 12)
        born = date(year - 5 - year_group, 9, 1) + timedelta(days=rng.randrange(365))
        await self.rows.add("children", (child, ods, number, first, last, born, "SW1A 1AA", urn, year_group,
                                         json.dumps(parents), *flags))  # fmt: skip
        consent = rng.random()
        status = "given" if consent < 0.55 else "refused" if consent < 0.64 else None
        if status:
            at = self._at(rng.randrange(1, 20))
            await self.rows.add("consents", (child, "flu", year, status, at))
        at_school = status == "given" and urn in closed and rng.random() < 0.8
        if at_school:
            await self._vaccinated(child, "flu", year, self._at(30))
        if year_group >= 8 and rng.random() < 0.6:  # an older child's HPV, given for life
            await self._vaccinated(child, "hpv", year - rng.randrange(1, 3), self._at(-rng.randrange(60, 400)))
        joins = (urn in closed or urn in (UNKNOWN_SCHOOL, HOME_EDUCATED)) and not at_school and status != "refused"
        if joins and not (flags[0] or flags[3]):
            await self._member(child, ods, (last, first), urn, status, invitable=contactable and not any(flags))
        if n % 97 == 0:
            seeded.nhs_numbers.append((ods, number))
            seeded.last_names.append((ods, last))
            seeded.logged.append(child)

    async def _vaccinated(self, child: uuid.UUID, programme: str, year: int, at: datetime) -> None:
        await self.rows.add("vaccinations", (self._id(), child, programme, year, "vaccinated", None, at))

    async def _member(
        self, child: uuid.UUID, ods: str, names: tuple[str, str], urn: str, status: str | None, *, invitable: bool
    ) -> None:
        """A clinic member's invitation, a later answer to the consent request, and perhaps a clinic visit.

        The membership row is written with the statuses the triggers would give it (they are off while
        the seed loads): invited, consent status, vaccinated this year.
        """
        rng, year = self.rng, self.plan.academic_year
        reason = {UNKNOWN_SCHOOL: "unknown_school", HOME_EDUCATED: "home_educated"}.get(urn, "school_session_closed")
        joined = self._at(31)
        # Invited means a parent was sent the invitation (cohort migration 0006), not that one was scheduled.
        invited = False
        if invitable and rng.random() < 0.9:
            invitation, due = self._id(), self._at(45)
            invited = rng.random() < 0.6
            await self.rows.add("invitations", (invitation, child, ods, ["flu"], year, "initial", due, invited))
        if status is None:  # the invitation's consent link answered, or a clinic's form
            answer = rng.random()
            status = "given" if answer < 0.25 else "refused" if answer < 0.31 else None
            if status:
                await self.rows.add("consents", (child, "flu", year, status, self._at(rng.randrange(32, 60))))
        vaccinated = status == "given" and rng.random() < 0.4
        if vaccinated:
            await self._vaccinated(child, "flu", year, self._at(60))
        row = (child, ods, year, "flu", joined.date(), reason, invited, status or "no_response", vaccinated, *names)
        await self.rows.add("clinic_memberships", row)


async def seed(admin_dsn: str, plan: Plan) -> Seeded:
    """Write `plan.children` children over `plan.teams` teams; rebuilds indexes and analyses the tables."""
    began = time.monotonic()
    seeded = Seeded(plan)
    rng = random.Random(plan.seed)
    season = datetime(plan.academic_year, 9, 8, 8, tzinfo=UTC)
    conn = await asyncpg.connect(admin_dsn)
    try:
        # Replica mode turns the status triggers off: the rows come with their statuses (see Story._member).
        await conn.execute(
            "SET synchronous_commit = off; SET maintenance_work_mem = '512MB'; SET session_replication_role = replica"
        )
        drops, adds, indexes = await constraints_and_indexes(conn)
        for statement in drops:
            await conn.execute(statement)
        rows = Rows(conn)
        await _teams_and_sessions(conn, rng, plan, seeded)
        closed_by_team = _closed_schools(plan)
        story = Story(rng, rows, plan, season)
        for n in range(plan.children):
            team = n % plan.teams
            await story.child(n, team, closed_by_team[team], seeded)
        await rows.flush()
        await conn.execute(f"SET search_path = {SCHEMA}")
        for statement in ACTIVITY:
            # The first takes the season's start and a nurse; the vaccinations' a nurse.
            args = [season, STAFF[0]] if "$2" in statement else [STAFF[1]] if "$1" in statement else []
            await conn.execute(statement, *args)
        seeded.rows = rows.counts | {"school_sessions": plan.teams * SCHOOLS_PER_TEAM}
        seeded.rows["activity_log"] = int(await conn.fetchval("SELECT count(*) FROM activity_log"))
        for statement in [*adds, *indexes]:
            await conn.execute(statement)
        # As autovacuum would have left them: statistics, and a visibility map for index-only scans.
        for table in TABLES:
            await conn.execute(f"VACUUM (ANALYZE) {SCHEMA}.{table}")
    finally:
        await conn.close()
    seeded.seconds = round(time.monotonic() - began, 1)
    return seeded


async def _teams_and_sessions(conn: asyncpg.Connection, rng: random.Random, plan: Plan, seeded: Seeded) -> None:
    changed = datetime(plan.academic_year, 9, 1, tzinfo=UTC)
    await conn.executemany(
        f"INSERT INTO {SCHEMA}.teams (ods_code, programmes, changed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        [(team_ods(t), ["flu"], changed) for t in range(plan.teams)],
    )
    sessions = []
    for t in range(plan.teams):
        for s in range(SCHOOLS_PER_TEAM):
            session = uuid.UUID(int=rng.getrandbits(128), version=4)
            on = date(plan.academic_year, 10, 1) + timedelta(days=rng.randrange(40))
            sessions.append((session, team_ods(t), school_urn(t, s), ["flu"], plan.academic_year, [on], changed))
    await conn.copy_records_to_table(
        "school_sessions", records=sessions, columns=COLUMNS["school_sessions"], schema_name=SCHEMA
    )
    seeded.sessions = [s[0] for s in sessions[:: max(1, len(sessions) // 200)]]


def _closed_schools(plan: Plan) -> dict[int, set[str]]:
    """Schools whose session has closed: a fixed ~70 % of each team's, the same on every run of a seed."""
    picker = random.Random(plan.seed + 1)
    return {t: {school_urn(t, s) for s in range(SCHOOLS_PER_TEAM) if picker.random() < 0.7} for t in range(plan.teams)}
