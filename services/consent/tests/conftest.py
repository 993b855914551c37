"""Fixtures of the consent tests: the app on the real broker and database, observed, and driven by a harness."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any

import aio_pika
import pytest

import testkit as testing
from consent import tables
from consent.app import create_app
from consent.config import Settings
from contracts.cohort import ChildrenUpserted, ChildSnapshot, ParentContact
from contracts.common import Programme
from contracts.sessions import ClinicDate, ClinicDatesChanged
from msgkit.clock import FixedClock
from msgkit.db import create_engine
from msgkit.failover import FailoverBroker
from testkit import observe, running

# 10 March 2026, midday in London: academic year 2025.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TEAM = "RYG"  # children and clinics built outside a harness


class Harness(testing.Harness):
    """Drives the running consent service only through the contract, and reads its rows to assert."""

    async def seed_child(self, child_id: uuid.UUID | None = None, **overrides: Any) -> ChildSnapshot:
        snapshot = make_child(child_id or uuid.uuid4(), **{"team_ods": self.team, **overrides})
        await self.publish(ChildrenUpserted(children=[snapshot]))
        await self.wait_rows(tables.children, child_id=snapshot.child_id)
        return snapshot

    async def seed_clinic(
        self, *dates: date, programmes: list[Programme] | None = None, closes_on: date | None = None
    ) -> ClinicDatesChanged:
        event = clinic_dates(*dates, programmes=programmes, team=self.team, closes_on=closes_on)
        await self.publish(event)
        await self.wait_rows(tables.clinic_sessions, session_id=event.session_id)
        return event


def make_parent(**overrides: Any) -> ParentContact:
    fields: dict[str, Any] = {
        "parent_id": uuid.uuid4(),
        "name": "A Parent",
        "email": "parent@example.com",
        "phone": "07700900000",
        "receive_updates": False,
    }
    return ParentContact(**{**fields, **overrides})


def make_child(child_id: uuid.UUID, **overrides: Any) -> ChildSnapshot:
    fields: dict[str, Any] = {
        "child_id": child_id,
        "team_ods": TEAM,
        "first_name": "Test",
        "last_name": "Child",
        "date_of_birth": date(2015, 5, 1),
        "school_urn": "999999",
        "parents": [make_parent()],
    }
    return ChildSnapshot(**{**fields, **overrides})


def clinic_dates(
    *dates: date, programmes: list[Programme] | None = None, team: str = TEAM, closes_on: date | None = None
) -> ClinicDatesChanged:
    return ClinicDatesChanged(
        session_id=uuid.uuid4(),
        team_ods=team,
        programmes=programmes or [Programme.FLU],
        academic_year=2025,
        dates=[ClinicDate(on=d) for d in dates],
        first_upcoming_date=min(dates, default=None),
        last_date=max(dates, default=None),
        consent_window_closes_on=closes_on,
    )


@pytest.fixture(name="make_parent")
def make_parent_fixture() -> Callable[..., ParentContact]:
    return make_parent


@pytest.fixture(name="make_child")
def make_child_fixture() -> Callable[..., ChildSnapshot]:
    return make_child


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(scope="session")
def consent_url(migrated: Callable[[str], str]) -> str:
    return migrated("consent")


@pytest.fixture
async def harness(consent_url: str, amqp_url: str, clock: FixedClock) -> AsyncIterator[Harness]:
    url = consent_url
    settings = Settings(database_url=url, rabbitmq_url=amqp_url, http_port=0, log_json=False)
    engine = create_engine(url, schema="consent")
    client = FailoverBroker(amqp_url)
    await client.connect()
    connection = await aio_pika.connect(amqp_url)
    try:
        async with running(create_app(settings, clock=clock)), connection:
            harness = Harness(client, engine, clock, await observe(await connection.channel(), "consent"))
            yield harness
            # Leave nothing for the next test's app to relay before its observer is bound.
            await harness.outbox_drained()
    finally:
        await client.stop()
        await engine.dispose()
