"""The workload: a team with a clinic due now, and children imported through the contract in several CSV imports.

Every request is re-sent with the same ids until it is answered: a timeout, a dropped broker
connection or an `internal_error` reply (the service lost its database) is what a fault looks
like from a client, and every request used here is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from faststream.rabbit import RabbitBroker

from chaos.accounting import Key, Recipient, normalise_address
from contracts import sessions
from contracts.cohort import CommitCohortImport, ImportCohortChunk
from contracts.common import URN_HOME_EDUCATED, URN_UNKNOWN_SCHOOL, Programme
from contracts.envelope import Message
from msgkit import rpc
from msgkit.failover import FailoverBroker
from testkit.data import HEADER, all_day_team, cohort_row, nhs_number
from testkit.data import SEEDS as NHS_SEEDS

log = logging.getLogger("chaos")

KIND = "clinic_initial_invitation"
CHUNK_ROWS = 1000
FIRST_NAME = "Alex"
# Home-schooled and school unknown: both join the clinic cohort on import.
URNS = (URN_HOME_EDUCATED, URN_UNKNOWN_SCHOOL)


@dataclass(frozen=True, slots=True)
class Child:
    """One child of the workload, with one parent whose email and mobile are the child's alone."""

    index: int
    nhs: str
    last_name: str
    email: str
    phone: str
    urn: str
    born: date

    @property
    def key(self) -> str:
        return f"child-{self.index:06d}"

    @property
    def parent(self) -> str:
        return f"{self.key}/parent-1"

    @property
    def full_name(self) -> str:
        return f"{FIRST_NAME} {self.last_name}"

    def cells(self) -> list[str]:
        return cohort_row(
            first_name=FIRST_NAME, last_name=self.last_name, nhs=self.nhs, urn=self.urn, born=self.born,
            email=self.email, phone=self.phone,
        )  # fmt: skip

    def expected(self) -> list[Key]:
        return [(self.key, self.parent, channel, KIND) for channel in ("email", "sms")]


def make_children(count: int, *, run: str, nhs_start: int) -> list[Child]:
    """Children with unique NHS numbers (testkit's, for seeds from `nhs_start`), names, parent emails and parent
    mobiles (07 9xxx xxxxx)."""
    if count > 10_000_000:
        raise ValueError("at most 10,000,000 children: each needs its own mobile number")
    if not 0 <= nhs_start <= NHS_SEEDS - count:
        raise ValueError(f"the children's NHS number seeds must lie within 0..{NHS_SEEDS - 1:,}")
    first_born = date(2013, 9, 1)
    return [
        Child(
            index=i,
            nhs=nhs_number(nhs_start + i),
            last_name=f"Chaos{i:07d}",
            email=f"parent.{i}@{run}.example.com",
            phone=f"079{i:08d}",
            urn=URNS[i % len(URNS)],
            born=first_born + timedelta(days=i % 1800),
        )
        for i in range(count)
    ]


def split(children: Sequence[Child], parts: int) -> list[list[Child]]:
    """`parts` imports of nearly equal size, in order."""
    size, extra = divmod(len(children), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(list(children[start:end]))
        start = end
    return [p for p in out if p]


def recipients(children: Sequence[Child]) -> dict[tuple[str, str], Recipient]:
    out: dict[tuple[str, str], Recipient] = {}
    for c in children:
        who = Recipient(child=c.key, parent=c.parent, full_name=c.full_name)
        out["email", normalise_address("email", c.email)] = who
        out["sms", normalise_address("sms", c.phone)] = who
    return out


class Refused(Exception):
    """A request was answered with a refusal that retrying cannot change."""


class Client:
    """Contract requests that survive the faults: the same message is re-sent until it is answered."""

    def __init__(self, amqp_url: str) -> None:
        self._url = amqp_url
        self._broker: RabbitBroker | None = None
        self.retries = 0

    async def _connected(self) -> RabbitBroker:
        if self._broker is None:
            broker = FailoverBroker(self._url, log_level=logging.WARNING)
            await broker.connect()
            self._broker = broker
        return self._broker

    async def _reset(self) -> None:
        broker, self._broker = self._broker, None
        if broker is not None:
            try:
                await asyncio.wait_for(broker.stop(), timeout=5)
            except Exception:
                log.debug("closing a broken client connection failed", exc_info=True)

    async def close(self) -> None:
        await self._reset()

    async def ask(self, message: Message, *, timeout: float = 30.0, give_up_after: float = 900.0) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + give_up_after
        failures = 0
        while True:
            problem: str
            try:
                reply = await rpc.request(await self._connected(), message, timeout=timeout)
            except Exception as exc:  # timeouts and broken connections alike: re-send the same message
                problem = f"{type(exc).__name__}"
                if not isinstance(exc, rpc.RequestTimeout):
                    await self._reset()
            else:
                if reply.ok:
                    return reply.data or {}
                assert reply.error is not None
                if reply.error.code != "internal_error":
                    raise Refused(f"{type(message).__name__}: {reply.error.code}: {reply.error.message}")
                problem = "internal_error"
            failures += 1
            self.retries += 1
            if loop.time() > deadline:
                raise TimeoutError(f"{type(message).__name__} unanswered after {give_up_after:g}s ({problem})")
            log.info("retrying %s after %s", type(message).__name__, problem)
            await asyncio.sleep(min(0.25 * 2 ** min(failures, 5), 5.0))


async def set_up_team(client: Client, ods: str, clinic_day: date, academic_year: int) -> None:
    """A team whose whole day is its sending window, and a clinic date close enough that invitations are due now."""
    await client.ask(sessions.UpsertTeam(team=all_day_team(ods, name="Chaos SAIS team")))
    dates = [sessions.ClinicDate(on=clinic_day)]
    clinic = sessions.SetClinicDates(team_ods=ods, academic_year=academic_year, programmes=[Programme.FLU], dates=dates)
    await client.ask(clinic)


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """One CSV import of the workload."""

    number: int
    import_id: uuid.UUID
    children: list[Child]


CommitWatcher = Callable[[ImportPlan], Awaitable[None]]


async def run_import(
    client: Client, ods: str, plan: ImportPlan, academic_year: int, *, while_committing: CommitWatcher | None = None
) -> dict[str, Any]:
    """Stage every chunk, then commit; each request re-sent with the same ids until answered."""
    rows = [c.cells() for c in plan.children]
    numbered = list(enumerate(rows, start=2))
    for sequence, start in enumerate(range(0, len(numbered), CHUNK_ROWS)):
        chunk = ImportCohortChunk(
            import_id=plan.import_id,
            team_ods=ods,
            sequence=sequence,
            header=HEADER,
            rows=numbered[start : start + CHUNK_ROWS],
        )
        answer = await client.ask(chunk, timeout=60)
        if answer.get("errors"):
            raise Refused(f"import {plan.number} chunk {sequence} has row errors: {answer['errors'][:3]}")
    commit = CommitCohortImport(import_id=plan.import_id, team_ods=ods, academic_year=academic_year)
    committing = asyncio.create_task(client.ask(commit, timeout=120))
    if while_committing is not None:
        await while_committing(plan)
    return await committing
