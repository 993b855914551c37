"""Staff's CLI as its own broker user (clinics_cli): staff's commands work against the running services, and
nothing else does (docs/security.md)."""

from __future__ import annotations

import uuid

import pytest

from clinics_admin.bootstrap import service_amqp_url
from clinics_admin.processes import ServiceProcess
from clinics_cli.deadletters import OPERATORS_ONLY
from testkit import new_team

from .cli_support import Cli
from .test_cli import make_team

pytestmark = pytest.mark.e2e


@pytest.fixture
def staff(e2e_amqp_url: str, stack: dict[str, ServiceProcess]) -> Cli:
    return Cli(service_amqp_url(e2e_amqp_url, "clinics_cli"))


async def test_staffs_commands_work_as_the_cli_user(staff: Cli) -> None:
    ods = new_team()
    await make_team(staff, ods)  # a command: sessions.UpsertTeam
    found = await staff("children", "find", "--team", ods, "--nhs-number", "9434765919", json=True)
    assert found.ok().json() == {"children": []}  # a query: cohort.FindChildren
    missing = (await staff("session", "show", uuid.uuid4())).failed(1)  # answered: refused by sessions
    assert "(not_found)" in missing.error_lines[0]


async def test_the_cli_user_cannot_read_dead_letters(staff: Cli) -> None:
    shown = (await staff("dead-letters", "show", "cohort.find_children")).failed(3)
    assert shown.error_lines == ["error: " + OPERATORS_ONLY]
