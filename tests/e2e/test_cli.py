"""The `clinics` command against the four running services: every staff verb, its tables and its JSON."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker

from clinics_admin.processes import ServiceProcess
from contracts import cohort, notify
from msgkit.clock import academic_year_of, readable
from testkit import eventually

from .cli_support import Cli
from .support import ask, child, child_id, csv_text
from .test_clinic_flow import new_team, seed, today

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).parent / "fixtures"
YEAR = academic_year_of(today())


@pytest.fixture
def cli(e2e_amqp_url: str, stack: dict[str, ServiceProcess]) -> Cli:
    return Cli(e2e_amqp_url)


async def make_team(cli: Cli, ods: str) -> None:
    # The whole day is open so that automatic invitations go out at once whenever the suite runs.
    team = await cli("team", "set", "--ods", ods, "--name", "CLI test SAIS", "--email", "sais@example.com",
                     "--phone", "0113 496 0000", "--booking-url", "https://booking.example.com/sais",
                     "--window-start", "00:00", "--window-end", "23:59:59", "-p", "flu", json=True)  # fmt: skip
    assert team.ok().json()["ods_code"] == ods


def school_urn() -> str:
    return f"{seed() % 900000 + 100000:06d}"


async def test_a_team_its_locations_school_session_and_clinic_dates(cli: Cli) -> None:
    ods, urn = new_team(), school_urn()
    await make_team(cli, ods)
    school = await cli("team", "add-location", "--team", ods, "--id", urn, "--kind", "school", "--name", "Oak Primary")
    assert "Oak Primary" in school.ok().stdout
    venue = await cli("team", "add-location", "--team", ods, "--id", "venue-1", "--kind", "community_clinic",
                      "--name", "Oak Health Centre", json=True)  # fmt: skip
    assert venue.ok().json()["kind"] == "community_clinic"

    created = await cli("session", "create-school", "--team", ods, "--urn", urn, "-p", "flu",
                        "--date", str(today() - timedelta(days=2)), json=True)  # fmt: skip
    session = created.ok().json()
    assert (session["kind"], session["state"], session["school_urn"]) == ("school", "completed", urn)
    shown = (await cli("session", "show", session["session_id"])).ok().stdout
    assert "completed" in shown and urn in shown and readable(today() - timedelta(days=2)) in shown

    first, second = today() + timedelta(days=14), today() + timedelta(days=21)
    if academic_year_of(second) != academic_year_of(first):
        pytest.skip("the clinic dates would straddle two academic years")
    dates = await cli("session", "clinic-dates", "--team", ods, "-p", "flu", "--date", f"{first}@venue-1",
                      "--date", str(second), json=True)  # fmt: skip
    clinic = dates.ok().json()
    assert clinic["state"] == "scheduled"
    assert clinic["dates"] == [{"on": str(first), "venue_id": "venue-1"}, {"on": str(second), "venue_id": None}]
    amended = await cli("session", "clinic-dates", "--team", ods, "-p", "flu", "--date", str(second), json=True)
    assert amended.ok().json()["dates"] == [{"on": str(second), "venue_id": None}]
    assert amended.json()["session_id"] == clinic["session_id"]
    found = await cli("session", "clinic", "--team", ods, "-p", "flu", "--year", str(academic_year_of(second)))
    assert clinic["session_id"] in found.ok().stdout and readable(second) in found.stdout


async def test_import_preview_send_and_status_of_invitations(cli: Cli, client: RabbitBroker, tmp_path: Path) -> None:
    ods, urn = new_team(), school_urn()
    await make_team(cli, ods)
    (await cli("team", "add-location", "--team", ods, "--id", urn, "--kind", "school", "--name", "Elm")).ok()
    (await cli("session", "clinic-dates", "--team", ods, "-p", "flu", "--date", str(today() + timedelta(days=7)))).ok()
    n = seed()
    home, pupil, vaccinated, later = child(n, "999999"), child(n + 1, urn), child(n + 2, urn), child(n + 3, urn)
    cohort_file = tmp_path / "cohort.csv"
    cohort_file.write_text(csv_text([home, pupil, vaccinated, later]))

    imported = (await cli("import-cohort", cohort_file, "--team", ods)).ok()
    assert "checked 4 of 4 rows" in imported.stderr, imported.stderr  # progress, on stderr
    assert "children created" in imported.stdout and "4" in imported.stdout

    found = await cli("children", "find", "--team", ods, "--nhs-number", home.nhs, json=True)
    (home_child,) = found.ok().json()["children"]
    by_name = (await cli("children", "find", "--team", ods, "--last-name", pupil.last_name)).ok().stdout
    assert pupil.nhs in by_name

    school_day = today() - timedelta(days=1)
    session = (await cli("session", "create-school", "--team", ods, "--urn", urn, "-p", "flu",
                         "--date", str(school_day), json=True)).ok().json()  # fmt: skip
    vaccinated_id = await child_id(client, ods, vaccinated)
    (await cli("vaccinate", vaccinated_id, "--session", session["session_id"], "-p", "flu", "--by", "Nurse",
               "--at", f"{school_day}T10:30")).ok()  # fmt: skip
    preview = await eventually(
        lambda: _preview_counting_the_vaccination(cli, session["session_id"]), timeout=30, what="the preview"
    )
    assert preview["will_invite"] == 2 and preview["left_out"]["vaccinated"] == 1
    human = (await cli("invitations", "preview", session["session_id"])).ok().stdout
    assert f"for Elm (URN {urn}) would invite 2" in human and "vaccinated" in human

    sent = (await cli("invitations", "send", session["session_id"], "--by", "Nurse Joy", json=True)).ok().json()
    assert sent["closed_by"] == "Nurse Joy" and sent["already_closed"] is False
    # A second click says what happened: nothing (issue 19 item 14).
    again = (await cli("invitations", "send", session["session_id"], "--by", "Nurse Kim")).ok().stdout
    closed_on = readable(datetime.fromisoformat(sent["closed_at"]))
    assert f"were already sent on {closed_on} by Nurse Joy: 0 new invitations" in " ".join(again.split())

    async def sent_by_email_and_sms() -> bool:
        status = await ask(client, notify.GetInvitationStatus(child_id=uuid.UUID(home_child["child_id"])))
        return {n["channel"] for n in status["notifications"] if n["status"] in {"sent", "delivered"}} == {
            "email",
            "sms",
        }

    await eventually(sent_by_email_and_sms, timeout=30, what="the home-educated child's invitation")
    status = (await cli("invitations", "status", home_child["child_id"])).ok().stdout
    assert "clinic_initial_invitation" in status and str(home.parent_email) in status
    status_json = (await cli("invitations", "status", home_child["child_id"], json=True)).ok().json()
    assert [i["kind"] for i in status_json["invitations"]] == ["initial"]

    nothing = (await cli("invitations", "status", vaccinated_id)).ok().stdout  # vaccinated, so never invited
    assert f"no invitations yet for child {vaccinated_id}" in nothing
    later_id = await child_id(client, ods, later)
    unknown = (await cli("invitations", "status", str(uuid.uuid4()))).failed(1)
    assert "no child" in unknown.error_lines[0]

    async def later_scheduled() -> bool:
        log = await ask(client, cohort.GetActivityLog(child_id=later_id))
        return any(e["kind"] == "invitation_scheduled" for e in log["entries"])

    # Invited by the close (due tomorrow at the window's opening): a repeat before it has gone says so.
    await eventually(later_scheduled, timeout=30, what="the later pupil's invitation scheduled")
    invited = (await cli("invitations", "child", later_id, "--team", ods, "--by", "Nurse", json=True)).ok().json()
    assert invited["kind"] == "none"
    tomorrow = readable(today() + timedelta(days=1))  # at the team's window opening
    assert invited["message"].startswith(f"an invitation is already due at {tomorrow} "), invited


async def _preview_counting_the_vaccination(cli: Cli, session_id: str) -> dict[str, Any]:
    data: dict[str, Any] = (await cli("invitations", "preview", session_id, json=True)).ok().json()
    return data if data["left_out"].get("vaccinated") == 1 else {}


async def test_consent_vaccination_walk_in_activity_and_clinic_lists(
    cli: Cli, client: RabbitBroker, tmp_path: Path
) -> None:
    ods = new_team()
    await make_team(cli, ods)
    clinic_days = [today(), today() + timedelta(days=7)]
    if academic_year_of(clinic_days[1]) != YEAR:
        pytest.skip("the clinic dates would straddle two academic years")
    clinic = (await cli("session", "clinic-dates", "--team", ods, "-p", "flu", "--date", str(clinic_days[0]),
                        "--date", str(clinic_days[1]), json=True)).ok().json()  # fmt: skip
    n = seed()
    booked, walk_up, waiting = child(n, "999999"), child(n + 1, "123456"), child(n + 2, "888888")
    cohort_file = tmp_path / "cohort.csv"
    cohort_file.write_text(csv_text([booked, walk_up, waiting]))
    assert (await cli("--json", "import-cohort", cohort_file, "--team", ods)).ok().json()["joined_clinic"] == 2
    booked_id, walk_up_id = await child_id(client, ods, booked), await child_id(client, ods, walk_up)

    requested = (await cli("consent", "request", booked_id, "--team", ods, "-p", "flu", "--by", "Nurse")).ok()
    assert "consent request" in requested.stdout
    recorded = await cli("consent", "record", booked_id, "--team", ods, "-p", "flu", "--response", "given",
                         "--route", "phone", "--by", "Nurse", json=True)  # fmt: skip
    assert recorded.ok().json()["status"] == "given"
    consent_table = (await cli("consent", "status", booked_id)).ok().stdout
    assert "given" in consent_table and "phone" in consent_table

    walked = (await cli("invitations", "walk-in", walk_up_id, "--team", ods, "--by", "Nurse", json=True)).ok()
    assert walked.json()["joined"] is True
    for who, extra in ((booked_id, ["--venue", "unknown"]), (walk_up_id, ["--venue", "unknown", "--parent-present"])):
        (await cli("vaccinate", who, "--session", clinic["session_id"], "-p", "flu", "--by", "Nurse", *extra)).ok()

    async def listed(filter_: str) -> set[str]:
        result = await cli("children", "list", "--team", ods, "-p", "flu", "--year", YEAR, "--filter", filter_,
                           json=True)  # fmt: skip
        return {c["child_id"] for c in result.ok().json()["children"]}

    async def both_vaccinated() -> bool:
        return await listed("vaccinated") == {str(booked_id), str(walk_up_id)}

    await eventually(both_vaccinated, timeout=30, what="both vaccinations in the clinic list")
    waiting_id = str(await child_id(client, ods, waiting))
    assert await listed("consent_given") == {str(booked_id), str(walk_up_id)}
    assert await listed("needs_consent") == {waiting_id}
    assert waiting_id in await listed("all")
    every = (await cli("children", "list", "--team", ods, "--filter", "all")).ok().stdout
    assert "3 in all" in every and waiting.last_name in every
    # Keyset pages: each prints the cursor of the next; the last prints none.
    first = (await cli("children", "list", "--team", ods, "--page-size", "2")).ok().stdout
    cursor = re.search(r"next page: --after (\S+)", first)
    assert cursor is not None and "page 1 of 2" in first
    rest = (await cli("children", "list", "--team", ods, "--page-size", "2", "--after", cursor[1])).ok().stdout
    assert "the page after the cursor, 3 in all" in rest and "next page" not in rest
    refused = (await cli("children", "list", "--team", ods, "--after", "not-a-cursor")).failed(1)
    assert "cursor" in refused.error_lines[0]

    async def whole_story() -> list[str]:
        log = await ask(client, cohort.GetActivityLog(child_id=booked_id))
        kinds = sorted({e["kind"] for e in log["entries"]})
        return kinds if {"consent_requested", "consent_recorded", "vaccination_recorded"} <= set(kinds) else []

    await eventually(whole_story, timeout=30, what="the activity log")
    activity = (await cli("children", "activity", booked_id)).ok().stdout
    lines = activity.splitlines()
    assert any("when" in line and "what" in line for line in lines), activity
    for sentence in ("Joined the community clinic cohort", "Consent given for Flu", "Vaccinated for Flu"):
        assert sentence in activity, activity
    assert activity.index("Joined the community clinic cohort") < activity.index("Vaccinated for Flu")
    entries = (await cli("children", "activity", booked_id, json=True)).ok().json()["entries"]
    assert entries[0]["kind"] == "joined_clinic_cohort"


async def test_the_activity_log_reads_due_times_in_london_time_in_summer_and_in_winter(
    cli: Cli, client: RabbitBroker, tmp_path: Path
) -> None:
    ods = new_team()
    # Next academic year's January and July: both always ahead, whenever the suite runs.
    year = YEAR + 1
    winter_clinic, summer_clinic = date(year + 1, 1, 22), date(year + 1, 7, 1)
    team = await cli("team", "set", "--ods", ods, "--name", "CLI test SAIS", "--email", "sais@example.com",
                     "--phone", "0113 496 0000", "--days-before", "21", "--window-start", "10:30",
                     "--window-end", "19:00", "-p", "flu")  # fmt: skip
    team.ok()
    (await cli("session", "clinic-dates", "--team", ods, "-p", "flu", "--date", winter_clinic)).ok()
    row = child(seed(), "999999")
    cohort_file = tmp_path / "cohort.csv"
    cohort_file.write_text(csv_text([row]))
    (await cli("import-cohort", cohort_file, "--team", ods, "--year", year)).ok()
    home = await child_id(client, ods, row)

    async def scheduled(count: int) -> list[dict[str, Any]]:
        log = await ask(client, cohort.GetActivityLog(child_id=home))
        entries = [e for e in log["entries"] if e["kind"] == "invitation_scheduled"]
        return entries if len(entries) == count else []

    await eventually(lambda: scheduled(1), timeout=30, what="the invitation scheduled for the winter clinic")
    # Moving the clinic to July re-times the invitation: due 21 days before, at 10:30 in summer time.
    (await cli("session", "clinic-dates", "--team", ods, "-p", "flu", "--date", summer_clinic)).ok()
    await eventually(lambda: scheduled(2), timeout=30, what="the invitation re-timed for the summer clinic")

    table = (await cli("children", "activity", home)).ok().stdout
    winter_due, summer_due = readable(winter_clinic - timedelta(days=21)), readable(summer_clinic - timedelta(days=21))
    assert (winter_due, summer_due) == (f"1 Jan {year + 1}", f"10 Jun {year + 1}")
    assert f"Clinic initial invitation for Flu scheduled for {winter_due} 10:30" in table, table  # GMT: UTC
    assert f"Clinic initial invitation for Flu scheduled for {summer_due} 10:30" in table, table  # BST: UTC+1
    assert "+00:00" not in table and f"{year + 1}-" not in table
    entries = (await cli("children", "activity", home, json=True)).ok().json()["entries"]
    due = [e["details"]["due_at"] for e in entries if e["kind"] == "invitation_scheduled"]
    assert due == [f"{year + 1}-01-01T10:30:00+00:00", f"{year + 1}-06-10T09:30:00+00:00"]
    assert all(e["occurred_at"].endswith("+00:00") for e in entries)
    status = (await cli("invitations", "status", home)).ok().stdout
    assert f"{summer_due} 10:30" in status and "T09:30" not in status


async def test_changing_a_childs_school_and_flags(cli: Cli, client: RabbitBroker, tmp_path: Path) -> None:
    ods = new_team()
    await make_team(cli, ods)
    row = child(seed(), "123456")
    cohort_file = tmp_path / "cohort.csv"
    cohort_file.write_text(csv_text([row]))
    (await cli("import-cohort", cohort_file, "--team", ods)).ok()
    child_ = await child_id(client, ods, row)
    moved = await cli("children", "change-school", child_, "--urn", "999999", "--by", "Nurse", json=True)
    assert moved.ok().json() == {"child_id": str(child_), "school_urn": "999999", "joined": True}
    flagged = await cli("children", "flags", child_, "--restricted", "--by", "Nurse", json=True)
    assert flagged.ok().json()["restricted"] is True


async def test_an_invalid_file_lists_every_bad_row_and_exits_1(cli: Cli) -> None:
    ods = new_team()
    await make_team(cli, ods)
    result = (await cli("import-cohort", FIXTURES / "invalid_fields.csv", "--team", ods)).failed(1)
    # Progress lines go to stderr too; the error is one line of its own.
    (line,) = [line for line in result.error_lines if line.startswith("error:")]
    assert line.startswith("error: The file has") and "(invalid_file)" in line
    assert "rows with errors" in result.stdout and "CHILD_" in result.stdout
    as_json = (await cli("import-cohort", FIXTURES / "invalid_fields.csv", "--team", ods, json=True)).failed(1)
    error = as_json.json()["error"]
    assert error["code"] == "invalid_file"
    assert error["details"] and all(d["row"] >= 2 for d in error["details"])
    found = (await cli("children", "find", "--team", ods, "--last-name", "Smith", json=True)).ok().json()
    assert found["children"] == []
