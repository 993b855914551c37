"""Running the clinics: invitations, consent, vaccinations, children and their activity, cohort imports."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer

from clinics_cli import importing, views
from clinics_cli.client import Client, CliError
from clinics_cli.params import By, Programmes, SomeProgrammes, Team, Year, parse_moment, this_year
from clinics_cli.runner import ask, call, guarded, options
from contracts import cohort, consent, notify, sessions
from contracts.common import Programme

invite_app = typer.Typer(help="Clinic invitations.", no_args_is_help=True)
consent_app = typer.Typer(help="Consent for clinics.", no_args_is_help=True)
child_app = typer.Typer(help="Children: finding them, their activity log, clinic lists.", no_args_is_help=True)

ChildId = Annotated[uuid.UUID, typer.Argument(help="The child's id (see `clinics children find`).")]
SessionId = Annotated[uuid.UUID, typer.Argument(help="The school session's id.")]


@invite_app.command("preview")
def preview(session_id: SessionId) -> None:
    """How many children *Send clinic invitations* would invite, and how many it leaves out and why."""

    async def work(client: Client) -> dict[str, object]:
        # The school's name and when the session can be sent are the sessions service's; the counts cohort's.
        session = await client.ask(sessions.GetSession(session_id=session_id))
        counts = await client.ask(cohort.PreviewClinicInvitations(session_id=session_id))
        return {**counts, "session": session}

    call(work, views.preview)


@invite_app.command("send")
@guarded
def send_clinic_invitations(session_id: SessionId, by: By) -> None:
    """*Send clinic invitations*: close a completed school session; its unvaccinated children are invited."""
    ask(sessions.CloseSchoolSession(session_id=session_id, closed_by=by), views.sent)


@invite_app.command("child")
@guarded
def invite_child(child_id: ChildId, team: Team, by: By, programme: SomeProgrammes = None) -> None:
    """*Invite to community clinic* for one child (a repeat is a subsequent invitation)."""
    message = cohort.InviteChildToClinic(child_id=child_id, team_ods=team, programmes=programme, requested_by=by)
    ask(message, views.record("invitation requested"))


@invite_app.command("walk-in")
@guarded
def walk_in(child_id: ChildId, team: Team, by: By, programme: SomeProgrammes = None) -> None:
    """Add a child who turned up at today's clinic and is not on its list."""
    message = cohort.AddWalkIn(child_id=child_id, team_ods=team, programmes=programme, requested_by=by)
    ask(message, views.record("walk-in"))


@invite_app.command("status")
def invitation_status(child_id: ChildId) -> None:
    """A child's invitations and the messages sent to their parents, with delivery status."""

    async def work(client: Client) -> dict[str, object]:
        try:
            return await client.ask(notify.GetInvitationStatus(child_id=child_id))
        except CliError as exc:
            if exc.code != "not_found":
                raise
            # Notify knows nothing of the child: a known child simply has no invitations yet (cohort says which).
            await client.ask(cohort.GetActivityLog(child_id=child_id))
            return {"child_id": str(child_id), "invitations": [], "notifications": []}

    call(work, views.invitation_status)


@consent_app.command("request")
@guarded
def consent_request(child_id: ChildId, team: Team, programme: Programmes, by: By, year: Year = None) -> None:
    """Send a consent request to the child's parents (while the consent window is open)."""
    message = consent.SendConsentRequest(
        child_id=child_id, team_ods=team, programmes=programme, requested_by=by, academic_year=year
    )
    ask(message, views.consent_request)


@consent_app.command("record")
@guarded
def consent_record(
    child_id: ChildId,
    team: Team,
    programme: Annotated[Programme, typer.Option("--programme", "-p")],
    response: Annotated[consent.ConsentResponse, typer.Option(help="given, refused or withdrawn.")],
    route: Annotated[consent.ConsentRoute, typer.Option(help="How the response was taken.")],
    by: By,
    parent: Annotated[uuid.UUID | None, typer.Option(help="The parent who responded.")] = None,
    year: Year = None,
) -> None:
    """Record a response taken by phone, on paper or in person."""
    message = consent.RecordConsent(
        child_id=child_id, team_ods=team, programme=programme, response=response, route=route,
        parent_id=parent, recorded_by=by, academic_year=year,
    )  # fmt: skip
    ask(message, views.record("consent recorded"))


@consent_app.command("status")
def consent_status(child_id: ChildId) -> None:
    """A child's consent status for each programme, with the latest response."""
    ask(consent.GetConsentStatus(child_id=child_id), views.consent_status)


@consent_app.command("link")
@guarded
def consent_link(team: Team, year: Year = None) -> None:
    """The team's generic consent-form link, for posters and adverts (responses are matched to children)."""
    ask(consent.GetTeamConsentLink(team_ods=team, academic_year=year), views.record("generic consent link"))


def vaccinate(
    child_id: ChildId,
    session: Annotated[uuid.UUID, typer.Option(help="The session (school or clinic) the child was seen at.")],
    programme: Annotated[Programme, typer.Option("--programme", "-p")],
    by: By,
    outcome: Annotated[sessions.VaccinationOutcome, typer.Option()] = sessions.VaccinationOutcome.VACCINATED,
    reason: Annotated[sessions.NotVaccinatedReason | None, typer.Option(help="Why not vaccinated.")] = None,
    venue: Annotated[str | None, typer.Option(help="The clinic venue's id, or 'unknown'.")] = None,
    parent_present: Annotated[bool, typer.Option("--parent-present", help="Records implied consent.")] = False,
    at: Annotated[str | None, typer.Option(help="When (default now); Europe/London unless an offset is given.")] = None,
    confirm: Annotated[
        bool, typer.Option("--confirm", help="Record a second outcome for the child, programme and day on purpose.")
    ] = False,
) -> None:
    """Record the outcome of a child at a session date."""
    message = sessions.RecordVaccination(
        child_id=child_id, session_id=session, programme=programme, outcome=outcome, reason=reason,
        venue_id=venue, parent_present=parent_present, recorded_by=by,
        performed_at=parse_moment(at) if at else None, confirm_repeat=confirm,
    )  # fmt: skip
    ask(message, views.record("vaccination recorded"))


def import_cohort(
    path: Annotated[Path, typer.Argument(help="A CSV in the cohort upload format (UTF-8 or ISO-8859-1).")],
    team: Team,
    programme: SomeProgrammes = None,
    year: Year = None,
) -> None:
    """Import a cohort CSV: every row valid and imported, or nothing imported and every bad row listed."""

    async def work(client: Client) -> object:
        return await importing.import_cohort(
            client, path, team_ods=team, programmes=programme, academic_year=year, show_progress=not options.json
        )

    call(work, views.imported)


@child_app.command("find")
@guarded
def find_children(
    team: Team,
    nhs_number: Annotated[str | None, typer.Option("--nhs-number")] = None,
    last_name: Annotated[str | None, typer.Option("--last-name")] = None,
) -> None:
    """Find a team's children by NHS number or last name."""
    ask(cohort.FindChildren(team_ods=team, nhs_number=nhs_number, last_name=last_name), views.children_found)


@child_app.command("activity")
def activity(child_id: ChildId) -> None:
    """A child's activity log, in time order."""
    ask(cohort.GetActivityLog(child_id=child_id), views.activity)


@child_app.command("list")
@guarded
def list_children(
    team: Team,
    programme: Annotated[Programme, typer.Option("--programme", "-p")] = Programme.FLU,
    year: Year = None,
    filter: Annotated[cohort.ClinicChildrenFilter, typer.Option(help="Which clinic children.")] = (
        cohort.ClinicChildrenFilter.ALL
    ),
    page: Annotated[int, typer.Option(min=1, help="A page by number (slower the later it is; see --after).")] = 1,
    page_size: Annotated[int, typer.Option(min=1, max=500)] = 50,
    after: Annotated[
        str | None, typer.Option(help="The next page: the cursor the previous page printed (as fast on any page).")
    ] = None,
) -> None:
    """A team's clinic children: invited, not invited, needs consent, consent given or refused, vaccinated."""
    message = cohort.ListClinicChildren(
        team_ods=team, programme=programme, academic_year=year or this_year(), filter=filter, page=page,
        page_size=page_size, after=after,
    )  # fmt: skip
    ask(message, views.clinic_children)


@child_app.command("change-school")
@guarded
def change_school(
    child_id: ChildId,
    urn: Annotated[str, typer.Option(help="The new school's URN: 888888 unknown, 999999 home-educated.")],
    by: By,
) -> None:
    """Change a child's school (unknown and home-educated children join the clinic cohort)."""
    ask(cohort.ChangeChildSchool(child_id=child_id, school_urn=urn, changed_by=by), views.record("school changed"))


@child_app.command("flags")
@guarded
def set_flags(
    child_id: ChildId,
    by: By,
    deceased: Annotated[bool | None, typer.Option("--deceased/--not-deceased")] = None,
    restricted: Annotated[bool | None, typer.Option("--restricted/--not-restricted")] = None,
    invalidated: Annotated[bool | None, typer.Option("--invalidated/--not-invalidated")] = None,
    archived: Annotated[bool | None, typer.Option("--archived/--not-archived")] = None,
) -> None:
    """Set a child's do-not-contact flags (flagged children are never messaged)."""
    message = cohort.SetChildFlags(
        child_id=child_id, deceased=deceased, restricted=restricted, invalidated=invalidated, archived=archived,
        changed_by=by,
    )  # fmt: skip
    ask(message, views.record("flags"))
