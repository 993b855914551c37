"""A consent request that has not reached the provider when consent is given by phone is cancelled, not sent."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker

from clinics_admin.processes import ServiceProcess
from msgkit.clock import academic_year_of
from testkit import eventually
from testkit.stub import StubProcess

from .cli_support import Cli
from .support import child, child_id, csv_text
from .test_cli import make_team
from .test_clinic_flow import new_team, seed, today

pytestmark = pytest.mark.e2e

REQUEST = "consent_clinic_request"


@pytest.fixture
def cli(e2e_amqp_url: str, stack: dict[str, ServiceProcess]) -> Cli:
    return Cli(e2e_amqp_url)


async def messages(cli: Cli, child: uuid.UUID, kind: str) -> list[dict[str, Any]]:
    status = await cli("invitations", "status", child, json=True)
    return [n for n in status.json()["notifications"] if n["kind"] == kind] if status.code == 0 else []


async def test_a_consent_request_held_back_by_the_provider_is_cancelled_by_consent_given_by_phone(
    cli: Cli, client: RabbitBroker, notify_stub: StubProcess, tmp_path: Path
) -> None:
    ods = new_team()
    await make_team(cli, ods)
    clinic_day = today() + timedelta(days=28)  # the child's invitation is due in a week: nothing else is sent now
    if academic_year_of(clinic_day) != academic_year_of(today()):
        pytest.skip("the clinic date is in the next academic year")
    (await cli("session", "clinic-dates", "--team", ods, "-p", "flu", "--date", str(clinic_day))).ok()
    row = child(seed(), "999999")  # home-educated: joins the clinic cohort; one parent with an email and a mobile
    cohort_file = tmp_path / "cohort.csv"
    cohort_file.write_text(csv_text([row]))
    (await cli("import-cohort", cohort_file, "--team", ods)).ok()
    kid = await child_id(client, ods, row)

    # The provider answers every send 429 until told otherwise: the request waits for a retry, unsent.
    await notify_stub.set_faults({"probabilistic": {"rate": 1.0, "kinds": ["429"]}})
    try:

        async def requested() -> bool:  # refused while consent has not yet heard of the child
            return (await cli("consent", "request", kid, "--team", ods, "-p", "flu", "--by", "Nurse Joy")).code == 0

        await eventually(requested, timeout=30, interval=0.5, what="the consent request accepted")

        async def refused_once() -> list[dict[str, Any]]:
            found = await messages(cli, kid, REQUEST)
            waiting = len(found) == 2 and all(n["status"] == "pending" and n["attempts"] >= 1 for n in found)
            return found if waiting else []

        held = await eventually(refused_once, timeout=60, interval=0.5, what="the request refused and waiting")
        (await cli("consent", "record", kid, "--team", ods, "-p", "flu", "--response", "given",
                   "--route", "phone", "--by", "Nurse Joy")).ok()  # fmt: skip

        async def cancelled() -> list[dict[str, Any]]:
            found = await messages(cli, kid, REQUEST)
            return found if {n["status"] for n in found} == {"cancelled"} else []

        cancelled_requests = await eventually(cancelled, timeout=60, interval=0.5, what="the request cancelled")
    finally:
        await notify_stub.set_faults({"probabilistic": None})

    assert {(n["channel"], n["cancel_reason"]) for n in cancelled_requests} == {
        ("email", "consent already given"),
        ("sms", "consent already given"),
    }

    async def confirmed() -> bool:  # the provider accepts again: the phone consent's confirmation goes out
        return any(n["status"] in {"sent", "delivered"} for n in await messages(cli, kid, "consent_confirmation_given"))

    await eventually(confirmed, timeout=60, interval=0.5, what="the confirmation sent")
    reached = {s["reference"] for s in await notify_stub.sent()}
    assert not reached & {n["reference"] for n in held}, "a cancelled consent request reached the provider"
    shown = (await cli("invitations", "status", kid)).ok().stdout
    assert "cancelled" in shown and "consent already given" in shown

    async def logged() -> list[str]:
        entries = (await cli("children", "activity", kid, json=True)).ok().json()["entries"]
        texts = [e["text"] for e in entries if e["kind"] == "notification_cancelled"]
        return texts if len(texts) == 2 else []

    texts = await eventually(logged, timeout=30, interval=0.5, what="the cancellations in the activity log")
    assert sorted(texts) == [
        "Consent request by email cancelled: consent already given",
        "Consent request by sms cancelled: consent already given",
    ]
    activity = (await cli("children", "activity", kid)).ok().stdout
    assert "Consent request by email cancelled: consent already given" in activity
