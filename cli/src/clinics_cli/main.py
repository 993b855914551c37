"""`clinics`: staff and operator commands over the published contract (RabbitMQ requests only).

Exit codes: 0 done, 1 refused by a service, 2 bad usage, 3 broker or service unreachable, 4 no reply in time.
"""

from __future__ import annotations

from typing import Annotated

import typer

from clinics_cli import clinic_commands, consent_responses, deadletters, demo, imports
from clinics_cli.client import quiet_libraries
from clinics_cli.runner import call, guarded, options
from clinics_cli.setup_commands import session_app, team_app
from msgkit.addresses import AddressError, parse_addresses

app = typer.Typer(
    help="Community clinic invitations: staff and operator commands over RabbitMQ.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(team_app, name="team")
app.add_typer(session_app, name="session")
app.add_typer(clinic_commands.invite_app, name="invitations")
app.add_typer(clinic_commands.consent_app, name="consent")
app.add_typer(consent_responses.app, name="consent-responses")
app.add_typer(clinic_commands.child_app, name="children")
app.add_typer(deadletters.app, name="dead-letters")
app.add_typer(imports.app, name="imports")
app.command("vaccinate")(guarded(clinic_commands.vaccinate))
app.command("import-cohort")(guarded(clinic_commands.import_cohort))


@app.callback()
def main(
    json: Annotated[bool, typer.Option("--json", help="Machine-readable output (errors too) on stdout.")] = False,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="RabbitMQ URL without a password, or a cluster's nodes separated by commas "
            "(default: $CLINICS_RABBITMQ_URL, else $RABBITMQ_URL, else make dev's broker as the CLI's own user).",
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each reply.", min=0.1)] = 10.0,
) -> None:
    quiet_libraries()
    if url is not None:
        try:
            addresses = parse_addresses(url)
        except AddressError as exc:
            raise typer.BadParameter(str(exc), param_hint="--url") from None
        if addresses.has_password:
            # A command line is visible to every user of the machine (ps, shell history).
            raise typer.BadParameter(
                "no password on the command line: set CLINICS_RABBITMQ_URL instead", param_hint="--url"
            )
    options.json = json
    options.url = url or ""
    options.timeout = timeout


@app.command("demo")
def run_demo(
    form_url: Annotated[
        str | None,
        typer.Option(
            "--form-url",
            help="Where the consent form answers, as http(s)://host:port/consent "
            "(default: where the consent service's links point, CONSENT_FORM_URL).",
        ),
    ] = None,
) -> None:
    """Seed a realistic team and walk the whole flow (import, school session, invitations, online consent,
    clinic), printing it."""
    call(lambda client: demo.walk(client, as_json=options.json, form_url=form_url))
