"""`clinics demo`: seed a realistic team and walk the whole flow through the contract, printing each step."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from clinics_cli import output, views
from clinics_cli.client import Client, CliError
from clinics_cli.demo_consent import consent_by_phone, consent_online
from clinics_cli.demo_core import FLU, NURSE, Demo, eventually
from clinics_cli.importing import import_rows
from contracts import cohort, notify, sessions
from contracts.common import CLINIC_URNS, URN_HOME_EDUCATED, URN_UNKNOWN_SCHOOL, Programme
from contracts.nhs_number import with_check_digit
from msgkit.clock import LONDON, academic_year_of, readable

__all__ = ["Demo", "consent_by_phone", "walk"]

VENUE = "leeds-health-centre"
SCHOOLS = {"110001": "Hillside Primary", "110002": "Riverside Academy", "110003": "St Anne's CE Primary"}
FIRST_NAMES = ["Amara", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hari", "Isla", "Jay", "Kai", "Lena"]
LAST_NAMES = ["Patel", "Smith", "Okafor", "Nowak", "Jones", "Khan", "Evans", "Taylor"]
HEADER = ["CHILD_FIRST_NAME", "CHILD_LAST_NAME", "CHILD_DATE_OF_BIRTH", "CHILD_NHS_NUMBER", "CHILD_SCHOOL_URN",
          "CHILD_POSTCODE", "PARENT_1_NAME", "PARENT_1_RELATIONSHIP", "PARENT_1_EMAIL", "PARENT_1_PHONE"]  # fmt: skip
# Three pupils at each school, two home-educated children and one whose school is unknown.
URNS = [*SCHOOLS, *SCHOOLS, *SCHOOLS, URN_HOME_EDUCATED, URN_HOME_EDUCATED, URN_UNKNOWN_SCHOOL]


def nhs_number(rng: random.Random) -> str:
    """A random valid NHS number (a stem with no check digit is drawn again)."""
    while (number := with_check_digit(rng.randrange(10**9))) is None:
        continue
    return number


def cohort_rows(rng: random.Random) -> list[tuple[int, list[str]]]:
    rows = []
    for number, (first, urn) in enumerate(zip(FIRST_NAMES, URNS, strict=True), start=2):
        last = rng.choice(LAST_NAMES)
        email = f"{first.lower()}.{last.lower()}.parent@example.com"
        phone = f"07700 900{rng.randint(100, 999)}"  # Ofcom's range for drama: never a real number
        born = date(2014, 9, 1) + timedelta(days=rng.randint(0, 2500))
        rows.append((number, [first, last, born.isoformat(), nhs_number(rng), urn, "LS1 4AP",
                              f"Sam {last}", "Parent", email, phone]))  # fmt: skip
    return rows


def clinic_days(today: date) -> list[date]:
    """Today (so the demo can vaccinate) and a week later, kept inside today's academic year."""
    later = today + timedelta(days=7)
    return [today, later] if academic_year_of(later) == academic_year_of(today) else [today]


async def walk(client: Client, *, as_json: bool, form_url: str | None = None) -> dict[str, Any] | None:
    """The whole flow; `form_url` is where the consent form answers, if not where consent's links point."""
    demo = Demo(client, as_json)
    # Each step is shown once it has happened, so the output reads in the order things happened.
    await set_up_team(demo)
    await import_cohort(demo)
    await show_invitations_sent(demo)
    school_session = await run_school_session(demo)
    await send_clinic_invitations(demo, school_session)
    # One home-educated child's parent answers online; the other's parent the nurse phones.
    await consent_online(demo, demo.named(URN_HOME_EDUCATED, 1), form_url)
    phoned = demo.named(URN_HOME_EDUCATED)
    home = await demo.child(phoned)
    await consent_by_phone(demo, home, f"{phoned[0]} {phoned[1]} (home-educated)")
    await run_clinic(demo, home)
    await show_activity_log(demo)
    return demo.report if as_json else None


async def set_up_team(demo: Demo) -> None:
    c, ods = demo.client, demo.ods
    team = sessions.TeamSettings(
        ods_code=ods, name="Leeds Community SAIS (demo)", email="sais.demo@example.com", phone="0113 496 0000",
        booking_url="https://booking.example.com/leeds-sais", days_before_invitations=21,
        send_window_start=clock_time(0, 0), send_window_end=clock_time(23, 59, 59), programmes=FLU,
    )  # fmt: skip
    await c.ask(sessions.UpsertTeam(team=team))
    for urn, name in SCHOOLS.items():
        await c.ask(sessions.AddLocation(team_ods=ods, location_id=urn, kind="school", name=name))
    await c.ask(sessions.AddLocation(team_ods=ods, location_id=VENUE, kind="community_clinic", name="Health Centre"))
    days = clinic_days(demo.today)
    dates = [sessions.ClinicDate(on=d, venue_id=VENUE) for d in days]
    year = academic_year_of(demo.today)
    clinic = await c.ask(sessions.SetClinicDates(team_ods=ods, academic_year=year, programmes=FLU, dates=dates))
    demo.report.update(team_ods=ods, academic_year=year, clinic_session=clinic)
    demo.say(f"team {ods}: three schools, a clinic venue, flu, sending window open all day (for the demo)")
    demo.say(f"community clinic {clinic['session_id']} on {', '.join(map(readable, days))}: {clinic['state']}")


async def import_cohort(demo: Demo) -> None:
    demo.rows = cohort_rows(random.Random())
    result = await import_rows(
        demo.client, HEADER, demo.rows, team_ods=demo.ods, programmes=FLU, academic_year=demo.report["academic_year"],
        show_progress=False,
    )  # fmt: skip
    demo.report["import"] = result
    demo.say(f"imported {result['rows']} children: {result['children_created']} new, {result['joined_clinic']} "
             "joined the clinic cohort (home-educated or school unknown); their invitations are due now, "
             "the first clinic date being less than 21 days away")  # fmt: skip


async def run_school_session(demo: Demo) -> uuid.UUID:
    c, urn = demo.client, next(iter(SCHOOLS))
    school_day = demo.today - timedelta(days=2)
    session = await c.ask(
        sessions.CreateSchoolSession(team_ods=demo.ods, school_urn=urn, programmes=FLU, dates=[school_day])
    )
    session_id = uuid.UUID(session["session_id"])
    pupil = await demo.child(demo.named(urn))
    await c.ask(sessions.RecordVaccination(
        child_id=pupil, session_id=session_id, programme=Programme.FLU, outcome=sessions.VaccinationOutcome.VACCINATED,
        recorded_by=NURSE, performed_at=datetime.combine(school_day, clock_time(10, 30), tzinfo=LONDON),
    ))  # fmt: skip
    demo.report["school_session"] = session
    demo.say(f"school session {session_id} at {SCHOOLS[urn]} on {readable(school_day)} (completed); "
             "one pupil vaccinated there")  # fmt: skip
    return session_id


async def send_clinic_invitations(demo: Demo, session_id: uuid.UUID) -> None:
    c = demo.client
    preview = await eventually(
        lambda: c.ask(cohort.PreviewClinicInvitations(session_id=session_id)),
        lambda p: p["left_out"].get("vaccinated") == 1,
        "the preview to count the school vaccination",
    )
    demo.report["preview"] = preview
    demo.say(f"preview of Send clinic invitations: {preview['will_invite']} to invite, left out: "
             f"{output.cell({k: n for k, n in preview['left_out'].items() if n}) or 'none'}")  # fmt: skip
    await c.ask(sessions.CloseSchoolSession(session_id=session_id, closed_by=NURSE))
    demo.say("school session closed (Send clinic invitations): its unvaccinated pupils join the clinic cohort; "
             "staff-triggered invitations go out tomorrow at the team's send time")  # fmt: skip
    one = await demo.child(demo.named("110003"))
    invited = await c.ask(cohort.InviteChildToClinic(child_id=one, team_ods=demo.ods, requested_by=NURSE))
    outcome = invited.get("message") or f"{invited['kind']} invitation, also due tomorrow"
    demo.say(f"Invite to community clinic for one pupil of {SCHOOLS['110003']}: {outcome}")


async def show_invitations_sent(demo: Demo) -> None:
    c, sent = demo.client, []
    for cells in [cells for _, cells in demo.rows if cells[4] in CLINIC_URNS]:
        child_id = await demo.child(cells)

        async def status(child_id: uuid.UUID = child_id) -> dict[str, Any]:
            try:
                return await c.ask(notify.GetInvitationStatus(child_id=child_id))
            except CliError as refused:  # notify has not heard of the child yet: wait, as for a send
                if refused.code != "not_found":
                    raise
                return {"notifications": []}

        for n in (await eventually(status, _both_channels_sent, "an invitation to be sent"))["notifications"]:
            sent.append({"child": f"{cells[0]} {cells[1]}", "kind": n["kind"], "channel": n["channel"],
                         "recipient": n["recipient"], "status": n["status"],
                         "sent_at": n["sent_at"]})  # fmt: skip
    demo.report["invitations_sent"] = sent
    if not demo.as_json:
        output.table(sent, title="invitations sent (see Mailpit under `make up`, the notify log under `make dev`)")


def _both_channels_sent(status: dict[str, Any]) -> bool:
    sent = {n["channel"] for n in status["notifications"] if n["status"] in {"sent", "delivered"}}
    return sent >= {"email", "sms"}


async def run_clinic(demo: Demo, home: uuid.UUID) -> None:
    c, clinic_id = demo.client, uuid.UUID(demo.report["clinic_session"]["session_id"])
    walk_in = await demo.child(demo.named("110002"))
    await c.ask(cohort.AddWalkIn(child_id=walk_in, team_ods=demo.ods, requested_by=NURSE))
    for child_id, present in ((home, False), (walk_in, True)):
        await c.ask(sessions.RecordVaccination(
            child_id=child_id, session_id=clinic_id, programme=Programme.FLU, venue_id=VENUE, recorded_by=NURSE,
            outcome=sessions.VaccinationOutcome.VACCINATED, parent_present=present,
        ))  # fmt: skip
    demo.say(f"clinic today at the health centre: the home-educated child vaccinated; a walk-in from "
             f"{SCHOOLS['110002']} added and vaccinated with a parent present (implied consent)")  # fmt: skip
    year = demo.report["academic_year"]
    vaccinated = cohort.ListClinicChildren(
        team_ods=demo.ods, programme=Programme.FLU, academic_year=year, filter=cohort.ClinicChildrenFilter.VACCINATED
    )
    listed = await eventually(
        lambda: c.ask(vaccinated),
        lambda data: data["total"] >= 2,
        "both clinic vaccinations to reach the clinic list",
    )
    demo.report["vaccinated_at_clinic"] = listed["total"]
    demo.report["home_educated_child_id"] = str(home)


async def show_activity_log(demo: Demo) -> None:
    home = uuid.UUID(demo.report["home_educated_child_id"])
    journey = {"notification_sent", "consent_recorded", "vaccination_recorded"}
    log = await eventually(
        lambda: demo.client.ask(cohort.GetActivityLog(child_id=home)),
        lambda a: journey <= {e["kind"] for e in a["entries"]},
        "the activity log to show the whole journey",
    )
    demo.report["activity_log"] = log
    if not demo.as_json:
        views.activity(log)
